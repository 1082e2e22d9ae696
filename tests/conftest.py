"""Fixtures shared by the test modules."""

import numpy as np
import pytest

import chainrule as cr


@pytest.fixture
def float32_default():
    """Run a test with float32 as the default dtype, restoring the previous one after."""
    old = cr.get_default_dtype()
    cr.set_default_dtype(np.float32)
    try:
        yield
    finally:
        cr.set_default_dtype(old)
