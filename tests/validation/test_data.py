"""Data loaders and preprocessing; on-disk formats from files written here."""

from __future__ import annotations

import gzip
import pickle
from pathlib import Path

import numpy as np
import pytest

from sigprop.validation import DataNotFoundError, load_dataset, preprocess
from sigprop.validation._data import balanced_indices


def _write_idx(path: Path, array: np.ndarray, compress: bool = False) -> None:
    # IDX: two zero bytes, type code 0x08 (ubyte), ndim, big-endian dims.
    header = bytes([0, 0, 8, array.ndim]) + b"".join(
        int(d).to_bytes(4, "big") for d in array.shape
    )
    data = header + array.astype(np.uint8).tobytes()
    if compress:
        path = path.with_name(path.name + ".gz")
        path.write_bytes(gzip.compress(data))
    else:
        path.write_bytes(data)


def test_preprocess_centers_and_scales() -> None:
    rng = np.random.default_rng(0)
    xtr = rng.uniform(0, 255, size=(50, 4, 4))
    xte = rng.uniform(0, 255, size=(20, 4, 4))
    a, b, rec = preprocess(xtr, xte)
    assert a.shape == (50, 16) and b.shape == (20, 16)
    np.testing.assert_allclose(a.mean(axis=0), 0.0, atol=1e-12)
    assert np.mean(np.sum(a**2, axis=1)) / 16 == pytest.approx(1.0, rel=1e-12)
    # The same affine map was applied to the test set.
    flat_tr, flat_te = xtr.reshape(50, -1), xte.reshape(20, -1)
    np.testing.assert_allclose(
        b, (flat_te - flat_tr.mean(axis=0)) * rec["scale"], rtol=1e-12
    )
    assert rec["center"] == "train_mean" and rec["flatten"] is True


@pytest.mark.parametrize(
    ("name", "d", "n"), [("mnist5k", 784, 5000), ("digits", 64, 1797)]
)
def test_packaged_datasets(name: str, d: int, n: int) -> None:
    ds = load_dataset(name, seed=1)
    assert ds.input_dim == d and ds.num_classes == 10
    assert len(ds.y_train) + len(ds.y_test) == n
    assert abs(len(ds.y_test) - 0.2 * n) <= 10
    assert ds.preprocessing["mean_sq_norm_per_dim_train"] == pytest.approx(1.0)
    assert set(np.unique(ds.y_test)) == set(range(10))


@pytest.mark.parametrize("name", ["gaussian_mixture", "teacher"])
def test_synthetic_is_seeded(name: str) -> None:
    a = load_dataset(name, seed=3, params={"num_classes": 3, "n_samples": 300})
    b = load_dataset(name, seed=3, params={"num_classes": 3, "n_samples": 300})
    c = load_dataset(name, seed=4, params={"num_classes": 3, "n_samples": 300})
    np.testing.assert_array_equal(a.x_train, b.x_train)
    assert not np.array_equal(a.x_train, c.x_train)
    assert a.num_classes == 3


def test_gaussian_mixture_is_learnable_by_nearest_mean() -> None:
    ds = load_dataset("gaussian_mixture", seed=0)
    means = np.stack([ds.x_train[ds.y_train == c].mean(0) for c in range(4)])
    pred = np.argmin(((ds.x_test[:, None] - means) ** 2).sum(-1), axis=1)
    assert np.mean(pred == ds.y_test) > 0.9


def test_subsets_are_balanced() -> None:
    ds = load_dataset("digits", n_train=200, n_test=50, seed=0)
    assert np.bincount(ds.y_train).tolist() == [20] * 10
    assert sorted(np.bincount(ds.y_test).tolist()) == [5] * 10
    idx = balanced_indices(np.arange(100) % 4, 10, np.random.default_rng(0))
    assert np.bincount((np.arange(100) % 4)[idx]).tolist() == [3, 3, 2, 2]


@pytest.mark.parametrize(
    ("name", "folder"), [("mnist", "MNIST"), ("fashion_mnist", "FashionMNIST")]
)
def test_idx_on_disk(tmp_path: Path, name: str, folder: str) -> None:
    raw = tmp_path / folder / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    xtr = rng.integers(0, 256, size=(30, 28, 28))
    xte = rng.integers(0, 256, size=(10, 28, 28))
    ytr, yte = np.arange(30) % 10, np.arange(10) % 10
    _write_idx(raw / "train-images-idx3-ubyte", xtr)
    _write_idx(raw / "train-labels-idx1-ubyte", ytr, compress=True)
    _write_idx(raw / "t10k-images-idx3-ubyte", xte)
    _write_idx(raw / "t10k-labels-idx1-ubyte", yte)
    ds = load_dataset(name, root=tmp_path)
    assert ds.x_train.shape == (30, 784) and ds.x_test.shape == (10, 784)
    np.testing.assert_array_equal(ds.y_train, ytr)
    mean = xtr.reshape(30, -1).mean(0)
    np.testing.assert_allclose(
        ds.x_test, (xte.reshape(10, -1) - mean) * ds.preprocessing["scale"]
    )


def test_cifar10_on_disk(tmp_path: Path) -> None:
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for nm in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {
            b"data": rng.integers(0, 256, size=(6, 3072)).astype(np.uint8),
            b"labels": list(range(6)),
        }
        with open(folder / nm, "wb") as fh:
            pickle.dump(batch, fh)
    ds = load_dataset("cifar10", root=tmp_path)
    assert ds.x_train.shape == (30, 3072) and ds.x_test.shape == (6, 3072)


def test_missing_files_say_what_to_put_where(tmp_path: Path) -> None:
    with pytest.raises(
        DataNotFoundError,
        match=r"missing train-images-idx3-ubyte.*"
        r"MNIST/raw.*never downloads",
    ):
        load_dataset("mnist", root=tmp_path)
    with pytest.raises(DataNotFoundError, match=r"cifar-10-batches-py"):
        load_dataset("cifar10", root=tmp_path)
    with pytest.raises(DataNotFoundError, match=r"pass `root`"):
        load_dataset("fashion_mnist")


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"name": "imagenet"}, r"`dataset` must be one of"),
        ({"name": "digits", "test_fraction": 1.5}, r"`test_fraction` must be in"),
        ({"name": "digits", "params": {"n": 1}}, r"only accepted by the synthetic"),
        ({"name": "teacher", "params": {"depth": 3}}, r"accepts .*got unknown"),
        ({"name": "digits", "n_train": 5000}, r"`n_train` = 5000 needs"),
    ],
)
def test_bad_arguments(kw: dict[str, object], match: str) -> None:
    name = kw.pop("name")
    with pytest.raises(ValueError, match=match):
        load_dataset(name, **kw)  # type: ignore[arg-type]
