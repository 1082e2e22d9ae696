"""Fixtures shared by the test modules."""

import json
import subprocess
import sys
import time

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


@pytest.fixture(scope="session")
def dask_cluster():
    """Two single-threaded Dask worker processes on the loopback interface, shared by the
    distributed tests and closed at the end of the session (skipped without Dask)."""
    pytest.importorskip("distributed")
    from chainrule.distributed import connect

    with connect(workers=2, timeout=20) as client:
        yield client.cluster


@pytest.fixture
def dask_client(dask_cluster):
    """A client of the shared cluster, once both workers are up (a test may have killed one:
    its nanny starts a new one)."""
    from chainrule.distributed import connect

    with connect(dask_cluster.scheduler_address, timeout=20) as client:
        client.wait_for_workers(2, timeout=60)
        yield client


def _address_in(scheduler_file, seconds: float) -> str:
    """The address a starting scheduler writes to its file (which may appear half-written)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return json.loads(scheduler_file.read_text())["address"]
        except (OSError, ValueError, KeyError):
            if time.monotonic() > deadline:
                raise TimeoutError(f"no scheduler address in {scheduler_file}") from None
            time.sleep(0.05)


@pytest.fixture
def standalone_scheduler(tmp_path):
    """A Dask scheduler and one worker as separate processes on the loopback interface, for a
    test that kills the scheduler: yields (address, the scheduler's Popen). Both processes
    are killed at the end whatever happens."""
    pytest.importorskip("distributed")
    scheduler_file = tmp_path / "scheduler.json"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    scheduler = subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1"]
        + ["--port", "0", "--no-dashboard", "--scheduler-file", str(scheduler_file)],
        **quiet,
    )
    processes = [scheduler]
    try:
        address = _address_in(scheduler_file, seconds=30)
        worker = [sys.executable, "-m", "distributed.cli.dask_worker", address]
        options = ["--nthreads", "1", "--no-nanny", "--host", "127.0.0.1", "--no-dashboard"]
        processes.append(subprocess.Popen(worker + options, **quiet))
        yield address, scheduler
    finally:
        for process in processes:
            process.kill()
            process.wait(timeout=10)
