"""Figures are drawn with matplotlib's object API: the global backend and pyplot are untouched."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent(
    """
    import sys
    import matplotlib
    matplotlib.use("pdf")  # stands for a notebook's inline backend
    import matplotlib.pyplot as plt

    def forbidden(*args, **kwargs):
        raise AssertionError("matplotlib.use was called")

    matplotlib.use = plt.switch_backend = forbidden
    import chainrule as cr
    from chainrule.explainer import steps

    written = steps.plot(steps.sweep(lambda x: cr.exp(x), {"x": 1.0}), sys.argv[1])
    assert matplotlib.get_backend() == "pdf", matplotlib.get_backend()
    assert plt.get_fignums() == [], plt.get_fignums()
    print(written)
    """
)


def test_steps_plot_keeps_the_backend_and_makes_no_pyplot_figure(tmp_path):
    pytest.importorskip("matplotlib")
    target = tmp_path / "steps.png"
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(target)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(target)
    assert target.read_bytes().startswith(b"\x89PNG")
