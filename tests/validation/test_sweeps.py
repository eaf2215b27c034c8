"""Sweeps: expansion, TOML round trip, bad input, the shipped profiles."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import tomllib

import sigprop as sp
from sigprop.validation import (
    PROFILES,
    Sweep,
    SweepConfiguration,
    SweepError,
    load_sweep,
    profile_path,
)

BASE = {"dataset": "gaussian_mixture", "width": 8, "device": "cpu"}


def _sweep(**kw):  # type: ignore[no-untyped-def]
    confs = kw.pop("configurations", (
        SweepConfiguration("relu-eoc", {"activation": "relu", "sigma_w2": 2.0}),
        SweepConfiguration(
            "tanh-eoc", {"activation": "tanh", "sigma_w2": "eoc", "sigma_b2": 0.05},
            grid={"depth": [3]}, lr_by_depth={3: 0.2},
        ),
    ))
    return Sweep(kw.pop("name", "t"), confs, base=kw.pop("base", BASE),
                 grid=kw.pop("grid", {"depth": [2, 4], "seed": [0, 1, 2]}),
                 lr_by_depth=kw.pop("lr_by_depth", {2: 0.03}), **kw)


def test_expansion_is_the_grid_product() -> None:
    sw = _sweep()
    runs = sw.runs()
    relu = [r for r in runs if r.label == "relu-eoc"]
    tanh = [r for r in runs if r.label == "tanh-eoc"]
    assert len(relu) == 2 * 3 and len(tanh) == 1 * 3
    assert {(r.config.depth, r.config.seed) for r in relu} == set(
        itertools.product([2, 4], [0, 1, 2])
    )
    # lr_by_depth: the sweep's table at depth 2, RunConfig's default elsewhere,
    # the configuration's own table over the sweep's.
    default_lr = sp.validation.RunConfig().lr
    assert {r.config.depth: r.config.lr for r in relu} == {2: 0.03, 4: default_lr}
    assert {r.config.lr for r in tanh} == {0.2}
    assert all(r.config.width == 8 and r.config.dataset == "gaussian_mixture"
               for r in runs)
    assert len({r.config_hash for r in runs}) == len(runs)


def test_eoc_is_resolved_to_chi_1_equal_one() -> None:
    (run,) = [r for r in _sweep(grid={"seed": [0]}).runs() if r.label == "tanh-eoc"]
    assert isinstance(run.config.sigma_w2, float)
    mf = sp.MeanField("tanh", run.config.sigma_w2, 0.05)
    assert mf.chi_1 == pytest.approx(1.0, abs=1e-6)
    assert run.on_eoc


def test_phase_and_eoc_flags() -> None:
    sw = Sweep("p", [
        SweepConfiguration("ord", {"activation": "tanh", "sigma_w2": 1.2,
                                   "sigma_b2": 0.05}),
        SweepConfiguration("cha", {"activation": "tanh", "sigma_w2": 3.0,
                                   "sigma_b2": 0.05}),
    ], base=BASE)
    by = {r.label: r for r in sw.runs()}
    assert by["ord"].phase == "ordered" and not by["ord"].on_eoc
    assert by["cha"].phase == "chaotic" and not by["cha"].on_eoc


def test_toml_round_trip(tmp_path: Path) -> None:
    sw = _sweep(description="round trip")
    path = tmp_path / "s.toml"
    path.write_text(sw.to_toml())
    back = Sweep.from_toml(path)
    assert back.fingerprint() == sw.fingerprint()
    assert [r.config for r in back.runs()] == [r.config for r in sw.runs()]
    assert back.description == "round trip"
    # What was written is TOML that the standard library reads.
    assert tomllib.loads(path.read_text())["sweep"]["name"] == "t"


def test_fingerprint_tracks_the_runs() -> None:
    a, b = _sweep(), _sweep(grid={"depth": [2, 4], "seed": [0, 1]})
    assert a.fingerprint() == _sweep().fingerprint()
    assert a.fingerprint() != b.fingerprint()


@pytest.mark.parametrize(("text", "match"), [
    ('[sweep]\nname="x"\n[bogus]\n', r"unknown key\(s\) \['bogus'\]"),
    ('[sweep]\nname="x"\ncolour=1\n', r"unknown key\(s\) \['colour'\]"),
    ('[sweep]\nname="x"\n[base]\ndepht=3\n[[configurations]]\nlabel="a"\n',
     r"\[base\]: unknown key\(s\) \['depht'\]"),
    ('[sweep]\nname="x"\n[[configurations]]\nlabel="a"\nsigma_w=2\n',
     r"configurations\[0\]: unknown key\(s\) \['sigma_w'\]"),
    ('[sweep]\nname="x"\n[grid]\nseeds=[0]\n[[configurations]]\nlabel="a"\n',
     r"\[grid\]: unknown key\(s\) \['seeds'\]"),
])
def test_unknown_keys_are_rejected(tmp_path: Path, text: str, match: str) -> None:
    p = tmp_path / "bad.toml"
    p.write_text(text)
    with pytest.raises(SweepError, match=match):
        Sweep.from_toml(p)


@pytest.mark.parametrize(("text", "match"), [
    ('[sweep]\nname="x"\n[grid]\ndepth=[0]\n[[configurations]]\nlabel="a"\n',
     r"configuration 'a'.*`depth`.*got 0"),
    ('[sweep]\nname="x"\n[grid]\ndepth=[]\n[[configurations]]\nlabel="a"\n',
     r"axis `depth` must be a non-empty list"),
    ('[sweep]\nname="x"\n[grid]\nseed=[1, 1]\n[[configurations]]\nlabel="a"\n',
     r"axis `seed` repeats a value"),
    ('[sweep]\nname="x"\n[lr_by_depth]\n5=-1.0\n[[configurations]]\nlabel="a"\n',
     r"learning rate of depth 5 must be a number > 0; got -1.0"),
    ('[sweep]\nname="x"\n[lr_by_depth]\nfive=0.1\n[[configurations]]\nlabel="a"\n',
     r"keys must be depths.*got 'five'"),
    ('[sweep]\nname="x"\n[[configurations]]\nlabel="a"\nsigma_w2="edge"\n',
     r"`sigma_w2` must be a number or \"eoc\"; got 'edge'"),
    ('[sweep]\nname="x"\n[[configurations]]\nlabel="a"\n'
     '[[configurations]]\nlabel="a"\nwidth=3\n', r"labels must be unique; \['a'\]"),
    ('[sweep]\nname="x"\n[[configurations]]\nlabel="a b"\n', r"`label` must be"),
    ('[sweep]\nname="x"\n', r"at least one entry in `configurations`"),
    ('[sweep]\n[[configurations]]\nlabel="a"\n', r"needs a `name`"),
    ('[sweep]\nname="x"\n[[configurations]]\nlabel="a"\nlr=0\n',
     r"`lr` must be > 0; got 0"),
    ('[sweep]\nname="x"\n[[configurations]]\nlabel="a"\n[[configurations]]\n'
     'label="b"\n', r"repeats a run of configuration 'a'"),
    ('[sweep]\nname = \n', r"not valid TOML"),
])
def test_impossible_values_are_rejected(tmp_path: Path, text: str, match: str) -> None:
    p = tmp_path / "bad.toml"
    p.write_text(text)
    with pytest.raises(SweepError, match=match):
        Sweep.from_toml(p)


def test_load_sweep_accepts_object_path_and_profile(tmp_path: Path) -> None:
    sw = _sweep()
    assert load_sweep(sw) is sw
    p = tmp_path / "s.toml"
    p.write_text(sw.to_toml())
    assert load_sweep(p).fingerprint() == sw.fingerprint()
    assert load_sweep(str(p)).fingerprint() == sw.fingerprint()
    assert load_sweep("smoke").name == "smoke"
    with pytest.raises(SweepError, match=r"'quik' is neither a profile"):
        load_sweep("quik")
    with pytest.raises(SweepError, match=r"does not exist"):
        load_sweep(tmp_path / "missing.toml")
    with pytest.raises(SweepError, match=r"`profile` must be one of"):
        profile_path("full")
    with pytest.raises(TypeError, match=r"`sweep` must be a Sweep"):
        load_sweep(3)  # type: ignore[arg-type]


def test_profiles_ship_with_the_package() -> None:
    for name in PROFILES:
        path = profile_path(name)
        assert path.is_file(), path
        # Installed next to the validation modules, not read from the checkout.
        assert path.parent.parent == Path(sp.validation.__file__).parent


def test_smoke_profile_is_tiny() -> None:
    runs = load_sweep("smoke").runs()
    assert 2 <= len(runs) <= 3
    for r in runs:
        assert r.config.dataset in ("gaussian_mixture", "teacher", "digits")
        assert r.config.max_epochs <= 30 and r.config.width <= 64
        assert r.config.num_threads == 1


def test_quick_profile_covers_the_protocol() -> None:
    runs = load_sweep("quick").runs()
    by: dict[str, list] = {}
    for r in runs:
        by.setdefault(r.label, []).append(r)
    relu = by["relu-eoc"]
    assert {(r.config.activation, r.config.sigma_w2, r.config.sigma_b2)
            for r in relu} == {("relu", 2.0, 0.0)}
    eoc = by["tanh-eoc"][0].config
    assert eoc.sigma_b2 == 0.05
    assert eoc.sigma_w2 == pytest.approx(sp.edge_of_chaos("tanh", 0.05), rel=1e-12)
    assert {r.phase for r in by["tanh-ordered"]} == {"ordered"}
    assert {r.phase for r in by["tanh-chaotic"]} == {"chaotic"}
    depths = {r.config.depth for r in runs}
    assert min(depths) >= 5 and max(depths) <= 50 and len(depths) >= 3
    assert len({r.config.depth for r in relu}) >= 3  # enough for a slope
    assert len({r.config.seed for r in runs}) >= 2


def test_paper_profile_is_the_published_protocol(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("SIGPROP_DATA_ROOT", raising=False)
    runs = load_sweep("paper").runs()
    # VALIDATION.md, "The published protocol": learning rate by linear layers.
    lr = {10: 5e-3, 20: 4e-3, 30: 4e-3, 40: 2e-3, 50: 1e-3, 60: 7e-4, 70: 5e-4,
          80: 2e-4, 90: 1e-4, 100: 1e-4}
    assert {r.config.depth + 1: r.config.lr for r in runs} == lr
    assert len({r.config.seed for r in runs}) == 5
    assert len(runs) == 50
    for r in runs:
        c = r.config
        assert (c.activation, c.sigma_w2, c.sigma_b2, c.width) == ("relu", 2, 0, 256)
        assert (c.optimizer, c.momentum, c.batch_size) == ("sgd", 0.9, 128)
        assert c.probe_size == 2000 and c.stop_loss == 0.02
        assert c.measure_losses == (0.1,) and c.max_epochs == 300
        assert c.dataset == "mnist5k"  # no Fashion-MNIST on disk here


def test_paper_prefers_fashion_mnist_on_disk(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    raw = tmp_path / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                 "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte.gz"):
        (raw / name).write_bytes(b"")
    monkeypatch.setenv("SIGPROP_DATA_ROOT", str(tmp_path))
    runs = load_sweep("paper").runs()
    assert {(r.config.dataset, r.config.data_root) for r in runs} == {
        ("fashion_mnist", str(tmp_path))
    }
    (raw / "t10k-labels-idx1-ubyte.gz").unlink()  # one file short: fall back
    assert {r.config.dataset for r in load_sweep("paper").runs()} == {"mnist5k"}
