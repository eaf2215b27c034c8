"""The documentation's tutorials, run as their readers run them.

Each tutorial under ``docs/tutorials/`` is executed as a script in a fresh
process, and what it prints is checked against the package's API computed
here independently: a tutorial whose numbers drift from the library fails.
The validation and Dask tutorials run the ``smoke`` profile (3 tiny runs),
which checks the machinery, not the theory.
"""

from __future__ import annotations

import importlib.util
import json
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import sigprop as sp

ROOT = Path(__file__).resolve().parent.parent
TUTORIALS = ROOT / "docs" / "tutorials"
NUMBER = r"(-?[0-9.]+(?:e[-+]?[0-9]+)?)"


def run_tutorial(name: str, *args: str, cwd: Path, timeout: float = 300) -> str:
    """Run ``docs/tutorials/NAME`` with ``args``; its standard output."""
    proc = subprocess.run(
        [sys.executable, str(TUTORIALS / name), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def grab(pattern: str, text: str) -> float:
    """The one number that ``pattern`` (with ``NUMBER`` in it) finds in ``text``."""
    found = re.findall(pattern.replace("NUMBER", NUMBER), text)
    assert len(found) == 1, (pattern, found)
    return float(found[0])


def test_every_tutorial_is_on_a_page():
    pages = "\n".join(p.read_text() for p in (ROOT / "docs").rglob("*.md"))
    for script in TUTORIALS.glob("*.py"):
        assert f'--8<-- "docs/tutorials/{script.name}"' in pages, script.name


def test_equilibrium_tutorial(tmp_path):
    out = run_tutorial("equilibrium_layer.py", cwd=tmp_path)
    relu = sp.MeanField("relu", 2.0, 0.0)
    assert grab(r"relu L=100: l\* = NUMBER  boundary = None", out) == pytest.approx(
        relu.equilibrium(100).layer, abs=1e-6
    )
    ratios = [grab(rf"relu L={d}: .*ratio = NUMBER", out) for d in (100, 1000, 10000)]
    assert ratios == sorted(ratios) and 0.97 < ratios[-1] < 1.0

    sw2 = sp.edge_of_chaos("tanh", 0.05)
    assert grab(r"sigma_w2 = NUMBER, chi_1", out) == pytest.approx(sw2, abs=1e-11)
    assert grab(r"tanh EOC at .*chi_1 = NUMBER", out) == pytest.approx(1.0, abs=1e-11)
    assert grab(r"tanh EOC L=100: l\* = NUMBER", out) == pytest.approx(
        sp.MeanField("tanh", sw2, 0.05).equilibrium(100).layer, abs=1e-6
    )

    # ordered: l* stops growing with L; chaotic: l*/L settles near 0.7
    ordered = [grab(rf"tanh ordered L={d}: l\* = NUMBER", out) for d in (200, 1000)]
    assert ordered[0] == pytest.approx(ordered[1], abs=1e-3)
    assert ordered[1] == pytest.approx(
        sp.MeanField("tanh", 1.5, 0.05).equilibrium(1000).layer, abs=1e-6
    )
    fractions = [
        grab(rf"tanh chaotic L={d}: .*l\*/L = NUMBER", out) for d in (200, 1000)
    ]
    assert 0.6 < fractions[0] < fractions[1] < 0.8

    X = np.random.default_rng(0).normal(size=(30, 20))
    assert grab(r"relu data L=100: l\* = NUMBER", out) == pytest.approx(
        relu.equilibrium_for_data(X, 100).layer, abs=1e-6
    )


def test_phase_diagram_tutorial(tmp_path):
    pytest.importorskip("matplotlib")
    out = run_tutorial("phase_diagram.py", str(tmp_path / "figs"), cwd=tmp_path)
    assert grab(r"sigma_b2 = 0.100000: sigma_w2 = NUMBER", out) == pytest.approx(
        sp.edge_of_chaos("tanh", 0.1), abs=1e-9
    )
    pd_l = grab(r"phase = chaotic, l\* = NUMBER", out)
    mf_l = grab(r"MeanField l\* = NUMBER", out)
    assert pd_l == pytest.approx(mf_l, abs=1e-7)
    assert mf_l == pytest.approx(
        sp.MeanField("tanh", 3.5, 0.1).equilibrium(50).layer, abs=1e-6
    )
    assert "reloaded equal: True" in out
    for name in ("phase_tanh.png", "phase_tanh_l_star.png"):
        assert (tmp_path / "figs" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_custom_activation_tutorial(tmp_path):
    out = run_tutorial("custom_activation.py", cwd=tmp_path)
    a, b = 1.7159, 2.0 / 3.0
    # a tanh(b x) at (sw, sb) is tanh at (a^2 b^2 sw, b^2 sb): the EOC maps over
    expected_sw2 = sp.edge_of_chaos("tanh", b**2 * 0.05) / (a**2 * b**2)
    assert grab(r"scaled tanh EOC at sigma_b2=0.05: sigma_w2 = NUMBER", out) == (
        pytest.approx(expected_sw2, rel=1e-8)
    )
    scaled = grab(r"scaled tanh L=100: l\* = NUMBER", out)
    assert scaled == pytest.approx(
        grab(r"plain tanh L=100: l\* = NUMBER", out), abs=1e-5
    )
    assert grab(r"mapped point: chi_1 = NUMBER", out) == pytest.approx(1.0, abs=1e-9)

    # the callable agrees with the same function written as an expression
    mf = sp.MeanField("(sqrt(x**2 + 1) - 1)/2 + x", 0.5, 0.1)
    assert grab(r"q\* = NUMBER", out) == pytest.approx(mf.q_star, abs=1e-9)
    assert grab(r"bent identity .* chi_1 = NUMBER", out) == pytest.approx(
        mf.chi_1, abs=1e-9
    )
    assert "x*tanh(x): NoEdgeOfChaosError: chi_1 of x*tanh(x) jumps" in out


def test_asymptotics_tutorial(tmp_path):
    out = run_tutorial("asymptotics.py", cwd=tmp_path)
    prefactor = (3 * math.pi / math.sqrt(2)) ** 0.4
    assert "relu: regime = edge, p = 3/2, a = 2*sqrt(2)/(3*pi), exact = True" in out
    assert grab(r"= NUMBER \* L\*\*0.6", out) == pytest.approx(prefactor, rel=1e-10)
    relu = sp.MeanField("relu", 2.0, 0.0)
    ratios = []
    for depth in (100, 1000, 10000, 100000):
        exact = grab(rf"relu L={depth}: exact l\* = NUMBER", out)
        law = grab(rf"relu L={depth}: .*law = NUMBER", out)
        assert exact == pytest.approx(relu.equilibrium(depth).layer, abs=1e-5)
        assert law == pytest.approx(prefactor * depth**0.6, rel=1e-6)
        ratios.append(exact / law)
    assert ratios == sorted(ratios) and ratios[-1] > 0.99

    # a = f''(1)/2, here by a finite difference of the slope f'(c) at c = 1
    mf = sp.MeanField("tanh", sp.edge_of_chaos("tanh", 0.05), 0.05)
    h = 1e-4
    a_fd = (float(mf.c_map_slope(1.0)) - float(mf.c_map_slope(1.0 - h))) / (2 * h)
    assert grab(r"tanh EOC: p = 2, a = NUMBER", out) == pytest.approx(a_fd, rel=1e-3)
    exact = grab(r"tanh L=10000: exact l\* = NUMBER", out)
    assert exact == pytest.approx(mf.equilibrium(10000).layer, abs=1e-3)
    assert grab(r"tanh L=10000: .*law = NUMBER", out) == pytest.approx(exact, rel=0.02)

    ordered = sp.MeanField("tanh", 1.5, 0.05)
    limit = grab(r"regime = ordered, l\* -> NUMBER", out)
    assert limit == pytest.approx(ordered.equilibrium(1000).layer, abs=1e-5)
    assert grab(r"= NUMBER xi_c", out) == pytest.approx(limit / ordered.xi_c, abs=1e-4)
    chaotic = sp.MeanField("tanh", 3.0, 0.05)
    r1, rc = math.log(chaotic.chi_1), math.log(chaotic.chi_c)
    fraction = grab(r"regime = chaotic, l\*/L -> NUMBER", out)
    assert fraction == pytest.approx((r1 - rc) / (r1 - 2 * rc), abs=1e-6)
    assert fraction == pytest.approx(chaotic.equilibrium(4000).fraction, abs=2e-3)

    assert "erf has a closed form: True  tanh: False" in out
    q30 = grab(r"q\* at 30 digits: NUMBER", out)
    assert q30 == pytest.approx(grab(r"q\* in float64: +NUMBER", out), rel=1e-14)
    l30 = grab(r"l\* at 30 digits = NUMBER", out)
    assert l30 == pytest.approx(grab(r"float64 = NUMBER", out), rel=1e-12)


def _needs_validation() -> None:
    for mod in ("torch", "sklearn", "dask.distributed"):
        if importlib.util.find_spec(mod.split(".")[0]) is None:
            pytest.skip(f"the validation tutorials need {mod} (the validation extra)")


@pytest.mark.slow
def test_validation_suite_tutorial_smoke(tmp_path):
    _needs_validation()
    from sigprop.validation import summary_table

    runs = tmp_path / "smoke"
    out = run_tutorial(
        "validation_suite.py",
        "--profile",
        "smoke",
        "--out",
        str(runs),
        "--jobs",
        "1",
        cwd=tmp_path,
    )
    assert "runs: 3 in the sweep, ran 3, skipped 0, failed 0, errors 0" in out
    rows = {(r["label"], r["depth"]): r for r in summary_table(runs).rows}
    assert set(rows) == {("relu-eoc", 3), ("relu-eoc", 6), ("tanh-eoc", 4)}
    relu = sp.MeanField("relu", 2.0, 0.0)
    for (label, depth), row in rows.items():
        line = rf"{label} L={depth} seed=0 ok: measured peak = NUMBER"
        assert grab(line, out) == row["peak_argmax"]
        printed = grab(rf"{label} L={depth} .*l\* \(dataset\) = NUMBER", out)
        assert printed == pytest.approx(row["l_star_dataset"], abs=1e-6)
        scalar = grab(rf"{label} L={depth} .*\) = NUMBER$".replace("$", "\n"), out)
        assert scalar == pytest.approx(row["l_star_scalar"], abs=1e-6)
        if label == "relu-eoc":  # the c0 prediction, recomputed from the API
            assert row["l_star_scalar"] == pytest.approx(
                relu.equilibrium(depth, c0=row["c0"]).layer, abs=1e-9
            )
    assert (runs / "report.md").read_text().startswith("# Validation report")
    assert "l_star_dataset vs peak_argmax: Spearman rho" in out


@pytest.mark.slow
def test_dask_tutorial_smoke(tmp_path):
    _needs_validation()
    from sigprop.validation import summary_table

    runs = tmp_path / "dask"
    out = run_tutorial(
        "dask_sweep.py", "--out", str(runs), "--workers", "2", cwd=tmp_path
    )
    assert "sweep smoke: 3 runs" in out
    assert "first call: ran 3, skipped 0, failed 0" in out
    assert "second call: ran 0, skipped 3" in out
    for row in summary_table(runs).rows:
        line = rf"{row['label']} L={row['depth']}: .*l\* \(dataset\) = NUMBER"
        assert grab(line, out) == pytest.approx(row["l_star_dataset"], abs=1e-6)


def test_readme_python_example_runs():
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks, "the README has a Python example"
    namespace: dict[str, object] = {}
    exec(compile(blocks[0], "README.md", "exec"), namespace)  # noqa: S102
    eq = namespace["eq"]
    assert isinstance(eq, sp.Equilibrium)
    assert round(eq.layer, 2) == 38.85  # the value the README's comment states
    assert eq.boundary is None


def _hooks():
    pytest.importorskip("mkdocs", reason="the docs hooks need mkdocs (docs extra)")
    spec = importlib.util.spec_from_file_location("docs_hooks", ROOT / "docs/hooks.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_cli_page_has_every_subcommand_and_option():
    from sigprop.cli import build_parser

    page = _hooks().cli_markdown()
    parser = build_parser()
    subs = next(a for a in parser._actions if hasattr(a, "choices") and a.choices)
    for name, sub in subs.choices.items():
        assert f"## sigprop {name}\n" in page
        for action in sub._actions:
            for flag in action.option_strings:
                assert flag in page, (name, flag)


def test_benchmarks_page_renders_every_figure(tmp_path):
    hooks = _hooks()
    sys.path.insert(0, str(ROOT))
    try:
        from benchmarks.__main__ import unit_of
    finally:
        sys.path.remove(str(ROOT))
    results = json.loads((ROOT / "benchmarks" / "results.json").read_text())
    page = hooks.benchmarks_markdown(ROOT / "benchmarks" / "results.json")
    assert results["date"] in page and results["machine"]["cpu"] in page
    for name, entry in results["benchmarks"].items():
        for fig in entry["figures"]:
            label, _ = unit_of(fig)
            assert f"| {name} | {label} |" in page
    assert "No results yet" in hooks.benchmarks_markdown(tmp_path / "none.json")


def test_api_pages_drop_restructuredtext_roles():
    tidy = _hooks().tidy_roles
    assert tidy("see :func:<code>~sigprop.equilibrium</code>") == (
        "see <code>equilibrium</code>"
    )
    assert tidy(":math:<code>q^*</code> and <code>:func:</code>") == (
        "<code>q^*</code> and <code>:func:</code>"
    )
