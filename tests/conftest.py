import os
import sys

import mpmath
import pytest

sys.path.insert(0, os.path.dirname(__file__))


@pytest.fixture
def mp_dps():
    """Set mpmath's working precision for one test and restore it afterwards."""
    old = mpmath.mp.dps

    def set_dps(dps: int) -> None:
        mpmath.mp.dps = dps

    yield set_dps
    mpmath.mp.dps = old
