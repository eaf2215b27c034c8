"""sigprop.phase: grid values against per-point MeanField, EOC, files, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

import sigprop as sp
from sigprop.phase import PhaseDiagram, load_phase_diagram, phase_diagram

SW = np.linspace(0.5, 4.0, 9)
SB = np.linspace(0.0, 0.3, 7)
DEPTH = 40


@pytest.fixture(scope="module", params=["tanh", "erf", "relu", "leaky_relu"])
def diagram(request):
    act = sp.activation(request.param)
    # the Activation object goes with it: canonical names with parameters,
    # "leaky_relu(alpha=0.01)", are not accepted back by sp.activation
    return phase_diagram(act, SW, SB, depth=DEPTH), act


def _close(got, want, rtol=1e-10, atol=1e-13):
    if math.isinf(want):
        return got == want
    return abs(got - want) <= rtol * abs(want) + atol


def test_grid_matches_meanfield_point_by_point(diagram):
    diagram, act = diagram
    name = act
    assert diagram.shape == (SB.size, SW.size)
    checked = 0
    for i, sb in enumerate(SB):
        for j, sw in enumerate(SW):
            mf = sp.MeanField(name, sw, sb)
            try:
                q_star = mf.q_star
            except sp.IndeterminateFixedPointError:
                assert diagram.q_status[i, j] == "every"
            except sp.NoFixedPointError:
                assert diagram.q_status[i, j] == "none"
                assert diagram.phase[i, j] == "undefined"
                assert np.isnan(diagram.chi_1[i, j])
                continue
            else:
                assert _close(diagram.q_star[i, j], q_star)
                assert diagram.q_status[i, j] == "finite"
            assert diagram.phase[i, j] == mf.phase
            for attr in ("c_star", "chi_1", "chi_c", "chi_q", "xi_q", "xi_c"):
                assert _close(getattr(diagram, attr)[i, j], getattr(mf, attr)), attr
            assert _close(diagram.trainable_depth[i, j], 6 * mf.xi_c)
            try:
                eq = mf.equilibrium(DEPTH)
            except sp.EquilibriumError:
                assert diagram.boundary[i, j] == "undefined"
                assert np.isnan(diagram.l_star[i, j])
                continue
            assert diagram.boundary[i, j] == (eq.boundary or "interior")
            assert _close(diagram.l_star[i, j], eq.layer, rtol=1e-9)
            assert _close(diagram.l_star_fraction[i, j], eq.fraction, rtol=1e-9)
            checked += 1
    assert checked > 10


def test_eoc_curve_has_chi1_equal_one(diagram):
    diagram, act = diagram
    if diagram.scale_invariant:
        assert diagram.eoc_point == (sp.edge_of_chaos(act), 0.0)
        assert diagram.eoc_exists.tolist() == [b == 0 for b in SB]
        assert any("scale invariant" in n for n in diagram.notes)
        return
    assert diagram.eoc_exists.all()
    for sb, sw in zip(SB, diagram.eoc_sigma_w2, strict=True):
        assert abs(sp.MeanField(act, sw, sb).chi_1 - 1) < 1e-12
        ref = sp.edge_of_chaos(act, sb)
        # chi_1 is flat in sigma_w2 where q* -> 0 (sb = 0): compare loosely there
        assert _close(sw, ref, rtol=1e-12 if sb > 0 else 1e-6)


def test_relu_flags_the_region_without_q_star():
    pd = phase_diagram("relu", [1.0, 2.0, 3.0], [0.0, 0.1], depth=10)
    assert pd.q_status.tolist() == [
        ["finite", "every", "none"],
        ["finite", "none", "none"],
    ]
    assert pd.phase[0, 1] == "edge" and pd.phase[0, 2] == "undefined"
    assert pd.q_star[0, 0] == 0.0 and pd.q_star[1, 0] == pytest.approx(0.2)
    masked = pd.masked("chi_1")
    assert masked.mask.tolist() == [[False, False, True], [False, True, True]]
    assert np.all(np.isnan(pd.chi_1[~pd.defined]))


def test_smooth_mehler_engine_matches_on_a_larger_tanh_grid():
    # several blocks of points sorted by q*, forced by a small block size
    sw = np.linspace(0.8, 3.0, 12)
    sb = np.linspace(0.01, 0.2, 6)
    pd = phase_diagram("tanh", sw, sb, depth=25, c0=0.3, block_size=7)
    rng = np.random.default_rng(1)
    for _ in range(12):
        i, j = rng.integers(sb.size), rng.integers(sw.size)
        mf = sp.MeanField("tanh", sw[j], sb[i])
        eq = mf.equilibrium(25, c0=0.3)
        assert _close(pd.c_star[i, j], mf.c_star)
        assert _close(pd.l_star[i, j], eq.layer, rtol=1e-9)


def test_save_load_round_trip_is_exact(tmp_path, diagram):
    diagram, act = diagram
    path = tmp_path / "pd.npz"
    diagram.save(path)
    back = load_phase_diagram(path)
    assert back.equals(diagram)
    for name in ("q_star", "l_star", "phase", "boundary", "eoc_sigma_w2"):
        a, b = getattr(back, name), getattr(diagram, name)
        assert a.dtype == b.dtype
        assert np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
    assert (back.activation, back.depth, back.c0) == (
        diagram.activation,
        diagram.depth,
        diagram.c0,
    )
    assert back.notes == diagram.notes and back.eoc_point == diagram.eoc_point
    assert not any(p.name.endswith(".tmp") for p in tmp_path.iterdir())


def test_equals_sees_a_changed_value(diagram):
    diagram, act = diagram
    changed = PhaseDiagram(**{**diagram.__dict__, "c0": 0.5})
    assert not changed.equals(diagram)


def test_save_into_missing_folder_fails_and_writes_nothing(tmp_path, diagram):
    diagram, act = diagram
    with pytest.raises(FileNotFoundError, match="does not exist"):
        diagram.save(tmp_path / "missing" / "pd.npz")
    assert list(tmp_path.iterdir()) == []


def test_tidy_table(diagram):
    diagram, act = diagram
    rows = diagram.to_records()
    assert len(rows) == SB.size * SW.size
    first, row = rows[0], rows[SW.size + 2]
    assert first["sigma_b2"] == SB[0] and first["sigma_w2"] == SW[0]
    assert row["sigma_b2"] == SB[1] and row["sigma_w2"] == SW[2]
    assert row["phase"] == diagram.phase[1, 2]
    if diagram.defined[1, 2]:
        assert row["chi_1"] == diagram.chi_1[1, 2]
    for r in rows:
        if r["q_status"] == "none":
            assert r["chi_1"] is None and r["l_star"] is None
    pd_ = pytest.importorskip("pandas")
    df = diagram.to_dataframe()
    assert isinstance(df, pd_.DataFrame) and len(df) == len(rows)


def test_progress_callback_reaches_the_total():
    seen = []
    phase_diagram("tanh", SW, SB, depth=5, progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (SW.size * SB.size, SW.size * SB.size)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"sigma_w2": [[1.0, 2.0]]}, "1-D"),
        ({"sigma_w2": [2.0, 1.0]}, "strictly increasing"),
        ({"sigma_w2": [1.0, 1.0]}, "strictly increasing"),
        ({"sigma_b2": [-0.1, 0.2]}, ">= 0"),
        ({"sigma_b2": [0.0, np.nan]}, "finite"),
        ({"sigma_w2": []}, "non-empty"),
        ({"depth": 0}, "positive integer"),
        ({"depth": 2.5}, "positive integer"),
        ({"c0": 1.5}, r"\[-1, 1\]"),
        ({"block_size": 0}, "block_size"),
    ],
)
def test_bad_input(kw, match):
    args = {"sigma_w2": [1.0, 2.0], "sigma_b2": [0.0, 0.1], "depth": 5}
    args.update(kw)
    with pytest.raises(sp.InvalidParameterError, match=match):
        phase_diagram("tanh", **args)


def test_unknown_activation():
    with pytest.raises(sp.UnknownActivationError, match="unknown activation"):
        phase_diagram("nosuchthing", [1.0], [0.0], depth=3)


def test_grid_of_strings_is_a_type_error():
    with pytest.raises(TypeError, match="1-D array of numbers"):
        phase_diagram("tanh", "1,2", [0.0], depth=3)
