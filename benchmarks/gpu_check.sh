#!/usr/bin/env bash
# GPU checks of the array backends (issue 15), for a machine with an NVIDIA GPU; unattended,
# 7.5 minutes at most (each step's limit is cut to what is left). From the repository root:
#
#     bash benchmarks/gpu_check.sh          # results in $OUT (default: a new temporary folder)
#
# 1. installs chainrule with the gpu and test extras, and PyTorch (its PyPI wheel for Linux
#    x86_64 is the CUDA build), unless a CUDA-enabled one is there already;
# 2. prints nvidia-smi and the versions;
# 3. runs the registry test on CuPy arrays (every entry: forward, reverse, forward mode and
#    second order, equal to NumPy) and the device tests, CHAINRULE_TEST_BACKEND=cupy;
# 4. times mlp_step (batch 128 and 1024) and digits training, chainrule on CuPy against
#    PyTorch CUDA eager on the same card (benchmarks/gpu_bench.py; target ratio <= 1.2).
#
# The tests' status is the script's; the benchmark runs whatever the tests found.
set -euo pipefail

cd "$(dirname "$0")/.."
export OUT="${OUT:-$(mktemp -d)}"
mkdir -p "$OUT"
step() { printf '\n== %s (%ss)\n' "$1" "$SECONDS"; }
# Every step's time limit: its own cap, or what is left of the 450 s the whole check may take.
DEADLINE=450
within() {
    local cap=$1 left=$((DEADLINE - SECONDS))
    shift
    if ((left < 10)); then
        echo "out of time before: $*" >&2
        return 124
    fi
    timeout "$((cap < left ? cap : left))" "$@"
}

step "install: chainrule[gpu,test], PyTorch with CUDA"
within 150 python -m pip install -q -e '.[gpu,test]'
if ! python -c 'import torch, sys; sys.exit(not torch.cuda.is_available())' 2>/dev/null; then
    within 200 python -m pip install -q torch
fi
if ! python -c 'import cupy; cupy.arange(3).sum().item()' 2>/dev/null; then
    # No system CUDA toolkit for CuPy: take its libraries from PyPI too.
    within 120 python -m pip install -q 'cupy-cuda12x[ctk]'
fi

step "the machine"
nvidia-smi | tee "$OUT/nvidia-smi.txt"
python - <<'PY' | tee "$OUT/versions.txt"
import cupy, numpy, torch
import chainrule
print(f"chainrule {chainrule.__version__}, NumPy {numpy.__version__}, CuPy {cupy.__version__}, "
      f"torch {torch.__version__} (CUDA {torch.version.cuda}), "
      f"{cupy.cuda.runtime.getDeviceCount()} GPU(s) visible to CuPy")
PY

step "registry and device tests on CuPy"
set +e
CHAINRULE_TEST_BACKEND=cupy within 200 python -m pytest -q -p no:cacheprovider -rfE \
    tests/backends/test_array_api_strict.py tests/backends/test_devices.py \
    --junitxml="$OUT/gpu_tests.xml" 2>&1 | tee "$OUT/gpu_tests.txt" | tail -40
tests_status=${PIPESTATUS[0]}
set -e
echo "tests: exit status $tests_status"

step "mlp_step and digits: chainrule on CuPy vs PyTorch CUDA eager"
within 120 python benchmarks/gpu_bench.py --device cuda --out "$OUT/gpu_bench.json" \
    | tee "$OUT/gpu_bench.txt"

step "done: results in $OUT"
exit "$tests_status"
