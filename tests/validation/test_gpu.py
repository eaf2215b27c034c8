"""CUDA paths: the same code as on the CPU, checked where a GPU exists.

CI has no GPU, so these tests are skipped there with the reason below; the
code they exercise (device placement in MLP, layer kernels and runs) is the
code the CPU tests run.
"""

from __future__ import annotations

import pytest
import torch

from sigprop.validation import MLP, RunConfig, layer_tangent_kernels, run_experiment

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(
        not torch.cuda.is_available(),
        reason="needs a CUDA device; none is available on this machine (CI has "
        "no GPU, the CPU tests cover the same code paths)",
    ),
]


def test_same_network_and_kernels_on_gpu_and_cpu() -> None:
    kw = {"sigma_w2": 1.5, "sigma_b2": 0.1, "dtype": "float64", "seed": 4}
    cpu = MLP("tanh", 6, 64, 10, 3, device="cpu", **kw)  # type: ignore[arg-type]
    gpu = MLP("tanh", 6, 64, 10, 3, device="cuda", **kw)  # type: ignore[arg-type]
    assert gpu.device.type == "cuda"
    for a, b in zip(cpu.layers(), gpu.layers(), strict=True):
        assert torch.equal(a.weight, b.weight.cpu())
    x = torch.randn(20, 10, dtype=torch.float64)
    for kind in ("traced", "full"):
        for a, b in zip(
            layer_tangent_kernels(cpu, x, kind=kind),
            layer_tangent_kernels(gpu, x, kind=kind),
            strict=True,
        ):
            assert b.device.type == "cuda"
            torch.testing.assert_close(a, b.cpu(), rtol=1e-10, atol=1e-12)


def test_run_on_gpu() -> None:
    rec = run_experiment(
        RunConfig(
            dataset="gaussian_mixture",
            depth=4,
            width=64,
            probe_size=40,
            lr=0.05,
            max_epochs=10,
            device="cuda",
        )
    )
    assert rec.ok and rec.device.startswith("cuda")
    assert rec.checkpoints[-1].alignment is not None
