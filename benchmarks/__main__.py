"""Run every benchmark and print one table: ``python -m benchmarks``.

Options: ``--quick`` (short runs, a smoke test of the harness), ``--only NAME
...``, ``--json PATH`` (default ``benchmarks/results.json``; ``--quick``
writes nowhere unless given one), ``--no-json``. The machine is described on
top of the table and in the JSON, with the load average at the start and the
end, because a shared machine slows every figure down.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import importlib
import importlib.util
import io
import json
import os
import platform
import subprocess
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks import BENCHMARKS, Benchmark

DEFAULT_JSON = Path(__file__).resolve().parent / "results.json"

_UNITS = (
    ("_s", "s"),
    ("_ms", "ms"),
    ("_mib", "MiB"),
    ("_x", "x"),
    ("_layer", "layer"),
)


def unit_of(figure: str) -> tuple[str, str]:
    """``(label, unit)`` of a figure name, from its suffix."""
    for suffix, unit in _UNITS:
        if figure.endswith(suffix):
            return figure[: -len(suffix)], unit
    if figure.startswith("predicted_l_star"):
        return figure, "layer"
    return figure, ""


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gib() -> float | None:
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return None


def _version(module: str) -> str | None:
    if importlib.util.find_spec(module) is None:
        return None
    try:
        from importlib.metadata import version

        return version(module)
    except Exception:  # noqa: BLE001 - a version is informative only
        return None


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parent,
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.strip() or None


def machine() -> dict[str, Any]:
    """A description of this machine and its software."""
    import sigprop

    cores = os.cpu_count()
    affinity = (
        len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    )
    mem = _memory_gib()
    return {
        "cpu": _cpu_model(),
        "cores_visible": cores,
        "cores_usable": affinity,
        "memory_gib": None if mem is None else round(mem, 1),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "sigprop": sigprop.__version__,
        "numpy": _version("numpy"),
        "scipy": _version("scipy"),
        "torch": _version("torch"),
        "commit": _git_commit(),
        "load_average_start": list(os.getloadavg())
        if hasattr(os, "getloadavg")
        else None,
    }


def _missing(b: Benchmark) -> str | None:
    """Why ``b`` cannot run here, or None."""
    if "torch" in b.needs:
        for mod in ("torch", "mlxtend", "sklearn"):
            if importlib.util.find_spec(mod) is None:
                return f"needs {mod} (the validation extra)"
    if "cuda" in b.needs:
        import torch

        if not torch.cuda.is_available():
            return "needs a CUDA device"
    return None


def run_one(b: Benchmark, quick: bool) -> dict[str, Any]:
    """Run one benchmark; never raises (a failure is recorded)."""
    argv = list(b.quick if quick else b.full)
    entry: dict[str, Any] = {"module": f"benchmarks.{b.module}", "argv": argv}
    reason = _missing(b)
    if reason is not None:
        entry.update(status="skipped", reason=reason, figures={})
        return entry
    mod = importlib.import_module(f"benchmarks.{b.module}")
    t0 = time.perf_counter()
    log = io.StringIO()
    try:
        with contextlib.redirect_stdout(log):
            figures = mod.main(argv)
    except Exception as exc:  # noqa: BLE001 - one failed benchmark is a result
        entry.update(
            status="failed",
            reason=f"{type(exc).__name__}: {exc}",
            traceback=traceback.format_exc(),
            figures={},
        )
    else:
        entry.update(
            status="ok", figures={k: float(v) for k, v in (figures or {}).items()}
        )
    entry["wall_s"] = time.perf_counter() - t0
    entry["output"] = log.getvalue()
    return entry


def _fmt(value: float) -> str:
    if value == 0 or 1e-3 <= abs(value) < 1e5:
        return f"{value:.4g}"
    return f"{value:.3e}"


def render_table(results: dict[str, Any]) -> str:
    """The results as one Markdown table, the machine on top."""
    m = results["machine"]
    lines = [
        f"Run {results['date']} ({'quick' if results['quick'] else 'full'}), "
        f"commit {m.get('commit')}",
        f"Machine: {m['cpu']}, {m['cores_usable']} usable cores of "
        f"{m['cores_visible']}, {m['memory_gib']} GiB; {m['os']}; Python "
        f"{m['python']}, numpy {m['numpy']}, scipy {m['scipy']}, torch "
        f"{m['torch']}, sigprop {m['sigprop']}",
        f"Load average at start {_load(m.get('load_average_start'))}, at end "
        f"{_load(m.get('load_average_end'))}",
        "",
        "| benchmark | figure | value | unit |",
        "|---|---|---:|---|",
    ]
    for name, entry in results["benchmarks"].items():
        if entry["status"] != "ok":
            lines.append(f"| {name} | *{entry['status']}: {entry['reason']}* | | |")
            continue
        for fig, value in entry["figures"].items():
            label, unit = unit_of(fig)
            lines.append(f"| {name} | {label} | {_fmt(value)} | {unit} |")
    return "\n".join(lines) + "\n"


def _load(values: Sequence[float] | None) -> str:
    return "n/a" if not values else " / ".join(f"{v:.2f}" for v in values)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.splitlines()[0]
    )
    ap.add_argument("--quick", action="store_true", help="short runs")
    ap.add_argument(
        "--only", nargs="+", choices=[b.name for b in BENCHMARKS], default=None
    )
    ap.add_argument("--json", type=Path, default=None, help="where to write JSON")
    ap.add_argument("--no-json", action="store_true", help="write no JSON")
    opts = ap.parse_args(argv)

    results: dict[str, Any] = {
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "quick": opts.quick,
        "machine": machine(),
        "benchmarks": {},
    }
    for b in BENCHMARKS:
        if opts.only and b.name not in opts.only:
            continue
        print(f"running {b.name} ...", file=sys.stderr, flush=True)
        results["benchmarks"][b.name] = run_one(b, opts.quick)
        entry = results["benchmarks"][b.name]
        print(
            f"  {entry['status']} in {entry.get('wall_s', 0.0):.1f} s",
            file=sys.stderr,
            flush=True,
        )
    if hasattr(os, "getloadavg"):
        results["machine"]["load_average_end"] = list(os.getloadavg())
    table = render_table(results)
    results["table"] = table
    print(table)
    path = (
        opts.json if opts.json is not None else (None if opts.quick else DEFAULT_JSON)
    )
    if path is not None and not opts.no_json:
        tmp = Path(f"{path}.tmp")
        tmp.write_text(json.dumps(results, indent=1) + "\n")
        os.replace(tmp, path)
        print(f"wrote {path}", file=sys.stderr)
    failed = [n for n, e in results["benchmarks"].items() if e["status"] == "failed"]
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
