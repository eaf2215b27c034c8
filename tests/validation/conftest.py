"""Shared fixtures of the validation tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

torch = pytest.importorskip("torch", reason="the validation tests need torch")


@pytest.fixture(autouse=True, scope="session")
def _one_thread() -> Iterator[None]:
    # The networks here are small: with two threads on a two-core machine
    # that is also busy elsewhere, torch spends its time waiting for a core
    # (measured: 100x slower per step). One thread keeps the suite fast and
    # its floating-point reductions in a fixed order.
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)
