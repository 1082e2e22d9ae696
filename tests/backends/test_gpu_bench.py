"""benchmarks/gpu_bench.py runs (on the CPU, tiny sizes): the script gpu_check.sh runs on a GPU."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

pytest.importorskip("torch")

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "gpu_bench.py"


def test_gpu_bench_runs_on_the_cpu_and_both_libraries_agree(tmp_path, monkeypatch, capsys):
    monkeypatch.syspath_prepend(str(SCRIPT.parent))  # the script imports benchmarks' workloads
    spec = importlib.util.spec_from_file_location("gpu_bench", SCRIPT)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    out = tmp_path / "bench.json"
    arguments = ["--device", "cpu", "--batches", "8", "--rounds", "1", "--number", "2"]
    bench.main([*arguments, "--epochs", "1", "--limit", "128", "--out", str(out)])
    assert "mlp_step batch 8" in capsys.readouterr().out
    results = json.loads(out.read_text())["results"]
    step, digits = results
    assert step["chainrule_s"] > 0 and step["torch_s"] > 0
    assert step["ratio"] == pytest.approx(step["chainrule_s"] / step["torch_s"])
    # The same weights, batch and number of SGD steps: the same loss up to float32 rounding.
    assert step["loss_relative_difference"] < 1e-4
    assert 0.0 <= digits["chainrule_accuracy"] <= 1.0 and digits["torch_s"] > 0
