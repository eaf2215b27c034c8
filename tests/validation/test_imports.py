"""Torch stays out of ``import sigprop`` and of the CLI module's import."""

from __future__ import annotations

import subprocess
import sys


def test_core_and_cli_module_do_not_import_torch() -> None:
    code = (
        "import sys, sigprop, sigprop.cli.validate_run; "
        "assert 'torch' not in sys.modules, 'torch was imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_validation_facade_exports() -> None:
    import sigprop.validation as v

    for name in (
        "MLP",
        "layer_tangent_kernels",
        "alignment",
        "RunConfig",
        "run_experiment",
    ):
        assert name in v.__all__ and hasattr(v, name)
    assert all(hasattr(v, name) for name in v.__all__)
