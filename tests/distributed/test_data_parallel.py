"""Data-parallel training on a two-worker LocalCluster equals a one-process run, also when
the batches split unevenly, when a worker is killed mid-epoch and when the data arrives as
float32; a lost scheduler ends the run with the finished epochs kept."""

from __future__ import annotations

import os
import signal
import time

import numpy as np
import pytest

from chainrule import nn
from chainrule.data.datasets import load_digits
from chainrule.training import build_model, fit, make_optimizer

pytest.importorskip("distributed")

from chainrule.distributed import DataParallel, SchedulerLostError, connect  # noqa: E402


def digits_problem(rows: int = 400, dtype: str = "float64"):
    """A digits subset: (spec, train, val), features already scaled."""
    digits = load_digits()
    features = (digits.features[:rows] / 16.0).astype(dtype)
    labels = digits.labels[:rows]
    spec = {
        "sizes": [64, 16, 10],
        "activation": "relu",
        "loss": "cross-entropy",
        "dtype": dtype,
        "classes": digits.classes,
    }
    return spec, (features[:320], labels[:320]), (features[320:], labels[320:])


def train(spec, train_set, val_set, *, fitter=None, optimizer="adam", **callbacks):
    """Rows and final weights of a 3-epoch run, seeded; ``fitter`` defaults to one process."""
    nn.manual_seed(0)
    model = build_model(spec)
    opt = make_optimizer(optimizer, model, 1e-2, 0.9, 1e-4)
    # 320 samples in batches of 37: shards of 19 and 18, and a last batch of 24 (12 + 12).
    rows = (fitter or fit)(model, spec, train_set, val_set, opt, 3, 37, 0, **callbacks)
    return rows, model.state_dict()


def assert_same_run(expected, got):
    (rows, weights), (rows_got, weights_got) = expected, got
    for name, value in weights.items():
        np.testing.assert_allclose(weights_got[name], value, rtol=1e-6, atol=1e-12)
        assert weights_got[name].dtype == value.dtype
    for row, row_got in zip(rows, rows_got, strict=True):
        for key in ("loss", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr"):
            assert row_got[key] == pytest.approx(row[key], rel=1e-9), key


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_two_workers_give_the_one_process_weights_and_metrics(dask_client, optimizer):
    spec, train_set, val_set = digits_problem()
    expected = train(spec, train_set, val_set, optimizer=optimizer)
    trainer = DataParallel(dask_client)
    assert_same_run(
        expected, train(spec, train_set, val_set, fitter=trainer.fit, optimizer=optimizer)
    )
    timing = trainer.timing.summary()
    assert timing["steps"] == 3 * 9
    assert len(timing["workers"]) == 2  # both workers computed shards
    assert sum(w["samples"] for w in timing["workers"].values()) == 3 * 320
    assert 0.0 <= timing["communication_share"] <= 1.0


def test_uneven_shards_are_weighted_by_their_size(dask_client):
    """A batch of 3 splits 2 + 1: an unweighted mean of the two shard gradients would differ."""
    spec, train_set, val_set = digits_problem(rows=60)  # 60 training rows, no validation
    nn.manual_seed(0)
    reference, model = build_model(spec), build_model(spec)
    model.load_state_dict(reference.state_dict())
    for net, fitter in ((reference, fit), (model, DataParallel(dask_client).fit)):
        opt = make_optimizer("sgd", net, 0.5, 0.0, 0.0)
        fitter(net, spec, train_set, val_set, opt, 1, 3, 7)
    for name, value in reference.state_dict().items():
        np.testing.assert_allclose(model.state_dict()[name], value, rtol=1e-6, atol=1e-12)


def test_float32_stays_float32(dask_client):
    spec, train_set, val_set = digits_problem(dtype="float32")
    # SGD: Adam divides by the gradients' running RMS and so magnifies float32 rounding.
    trainer = DataParallel(dask_client)
    rows, weights = train(spec, train_set, val_set, fitter=trainer.fit, optimizer="sgd")
    assert all(w.dtype == np.float32 for w in weights.values())
    expected_rows, expected = train(spec, train_set, val_set, optimizer="sgd")
    for name, value in expected.items():
        np.testing.assert_allclose(weights[name], value, rtol=1e-4, atol=1e-5)


def test_a_worker_killed_mid_epoch_changes_nothing(dask_client):
    """SIGKILL to one worker process during epoch 2: its shard is recomputed on the survivor,
    the nanny starts a new worker, and the final weights are the one-process weights."""
    spec, train_set, val_set = digits_problem()
    expected = train(spec, train_set, val_set)
    pids = dask_client.run(os.getpid)
    victim = pids[sorted(pids)[1]]
    killed = []

    def kill_once(epoch, done, total, loss, rate):
        if (epoch, done) == (2, 4) and not killed:
            os.kill(victim, signal.SIGKILL)
            killed.append(time.perf_counter())

    trainer = DataParallel(dask_client, step_timeout=60)
    got = train(spec, train_set, val_set, fitter=trainer.fit, on_batch=kill_once)
    assert killed, "the worker was never killed"
    with pytest.raises(ProcessLookupError):
        for _ in range(50):  # the killed process is gone once its parent has reaped it
            os.kill(victim, 0)
            time.sleep(0.1)
    assert_same_run(expected, got)
    assert trainer.timing.steps == 3 * 9


def test_a_lost_scheduler_ends_the_run_keeping_the_finished_epochs(standalone_scheduler):
    """The scheduler process is killed after epoch 2: the run stops within the reconnection
    timeout, and the error keeps the two finished epochs."""
    address, scheduler = standalone_scheduler
    spec, train_set, val_set = digits_problem(rows=200)
    with connect(address, timeout=2) as client:
        client.wait_for_workers(1, timeout=30)

        def lose_scheduler(row):
            if row["epoch"] == 2:
                scheduler.kill()

        nn.manual_seed(0)
        model = build_model(spec)
        opt = make_optimizer("adam", model, 1e-2, 0.0, 0.0)
        started = time.perf_counter()
        with pytest.raises(SchedulerLostError, match="lost the Dask scheduler") as caught:
            DataParallel(client, step_timeout=20).fit(
                model, spec, train_set, val_set, opt, 5, 40, 0, on_epoch=lose_scheduler
            )
        assert time.perf_counter() - started < 20
    assert scheduler.wait(timeout=10) is not None  # killed (kill() does not wait for the exit)
    assert [row["epoch"] for row in caught.value.rows] == [1, 2]


def test_connect_to_nothing_says_which_address():
    with pytest.raises(SchedulerLostError, match="tcp://127.0.0.1:9"):
        with connect("tcp://127.0.0.1:9", timeout=1):
            pass


def test_connect_needs_exactly_one_of_address_and_workers():
    with pytest.raises(ValueError, match="exactly one"):
        with connect():
            pass
