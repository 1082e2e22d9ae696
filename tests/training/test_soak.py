"""Long-running behaviour, in reduced form: memory stays flat over many epochs, and
threads that train at the same time get exactly what they get one after the other.

The full soak (10,000 steps) runs with ``CHAINRULE_THOROUGH=1``.
"""

from __future__ import annotations

import os
import threading

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn, optim
from chainrule.data.datasets import load_digits

THOROUGH = os.environ.get("CHAINRULE_THOROUGH") == "1"


def resident_bytes() -> int:
    """This process's resident set size, from /proc (Linux)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def digits_batches(batch_size=128, rows=512):
    digits = load_digits()
    features = (digits.features[:rows] / 16.0).astype(np.float64)
    labels = digits.labels[:rows]
    return [
        (features[i : i + batch_size], labels[i : i + batch_size])
        for i in range(0, rows, batch_size)
    ]


def train(batches, epochs, seed, evaluate_every=0):
    """Plain training: an MLP on digits with SGD and momentum; returns its final weights."""
    model = nn.MLP([64, 32, 10], generator=np.random.default_rng(seed))
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for epoch in range(epochs):
        for features, labels in batches:
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(model(cr.tensor(features)), labels)
            loss.backward()
            optimizer.step()
        if evaluate_every and epoch % evaluate_every == 0:
            with cr.no_grad():
                model(cr.tensor(batches[0][0]))
    return [p.detach().numpy().copy() for p in model.parameters()]


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs /proc (Linux)")
def test_memory_stays_flat_over_two_hundred_epochs():
    batches = digits_batches()
    epochs = 2500 if THOROUGH else 200  # 4 steps an epoch
    train(batches, 20, seed=0)  # warm up: allocator pools, import-time caches
    before = resident_bytes()
    weights = train(batches, epochs, seed=0)
    grown = resident_bytes() - before
    assert all(np.isfinite(w).all() for w in weights)
    assert grown < 16 * 2**20, f"resident memory grew by {grown / 2**20:.1f} MiB"


def test_threads_training_at_once_match_training_one_after_the_other():
    batches = digits_batches(rows=256)
    seeds = (1, 2)
    sequential = [train(batches, 15, seed, evaluate_every=3) for seed in seeds]
    results: dict[int, list[np.ndarray]] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(len(seeds))

    def worker(seed):
        try:
            start.wait(timeout=20)
            results[seed] = train(batches, 15, seed, evaluate_every=3)
        except BaseException as error:  # reported below, on the main thread
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(seed,), daemon=True) for seed in seeds]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    for seed, expected in zip(seeds, sequential, strict=True):
        for got, want in zip(results[seed], expected, strict=True):
            np.testing.assert_array_equal(got, want)
