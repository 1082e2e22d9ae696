"""Synchronous data-parallel SGD on Dask distributed, equal to a one-process run.

Layer: distributed (imports training, nn, tensor and extras; Dask only inside functions).
The training set is scattered to every worker once (broadcast), as dask-ml and XGBoost's
Dask interface keep their data on the workers. Each step the driver splits the global
batch's row indices into one contiguous shard per worker and sends each worker its
indices and the current weights; each worker returns the gradient of its shard's mean
loss, and the driver averages them weighted by shard size, which is exactly the gradient
of the whole batch's mean loss, so uneven splits change nothing. The optimizer step is
taken once, on the driver, by :func:`chainrule.training.fit`'s own loop: batches, their
order, the updates and the metrics are those of a local run.

A worker that dies mid-step is Dask's to handle: its shard is rescheduled on a surviving
worker, which holds its own copy of the data (the shards are pinned to workers loosely,
``allow_other_workers=True``), and from the next step on the batch is split among the
workers alive. A scheduler that stops answering ends the run with
:class:`SchedulerLostError`, which keeps the epochs finished so far.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import CancelledError
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import nn, optim
from ..errors import ChainruleError
from ..extras import require
from ..tensor import Tensor
from ..training import build_model, fit, loss_function, targets
from ..training.mlp import BatchCallback

#: Seconds to wait for the scheduler when connecting, and for one step's shards.
CONNECT_TIMEOUT = 30.0
STEP_TIMEOUT = 300.0
#: What a client raises once its scheduler is gone: a broken connection, a timeout, or a
#: cancelled future (Dask cancels every future when it gives up reconnecting).
CONNECTION_LOSS = (OSError, TimeoutError, CancelledError)


class SchedulerLostError(ChainruleError, ConnectionError):
    """The Dask scheduler stopped answering; ``rows`` holds the epochs finished before."""

    def __init__(self, address: str, problem: str, rows: list[dict]) -> None:
        self.address, self.rows = address, rows
        super().__init__(
            f"lost the Dask scheduler at {address} after {len(rows)} finished epoch(s): {problem}"
        )


@contextmanager
def connect(
    address: str | None = None, workers: int | None = None, timeout: float = CONNECT_TIMEOUT
) -> Iterator[Any]:
    """A ``distributed.Client``: to the scheduler at ``address`` (``tcp://host:8786``), or to a
    new LocalCluster of ``workers`` single-threaded processes on the loopback interface, which
    is closed when the block ends."""
    distributed = require("distributed", "distributed training (--cluster, --workers, sweep)")
    if (address is None) == (workers is None):
        raise ValueError("connect needs exactly one of address= and workers=")
    cluster = None
    if address is None:
        cluster = distributed.LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            silence_logs=logging.CRITICAL,
        )
    try:
        client = distributed.Client(cluster or address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError) as error:
        if cluster is not None:
            cluster.close()
        raise SchedulerLostError(str(address), f"cannot connect ({error})", []) from None
    try:
        yield client
    finally:
        # Closing a client whose scheduler is gone must not hang or hide the real error.
        with suppress(Exception):
            client.close(timeout=5)
        if cluster is not None:
            with suppress(Exception):
                cluster.close(timeout=10)


@dataclass
class ShardResult:
    """What a worker returns for its shard of one step."""

    worker: str
    count: int
    loss: float
    gradients: dict[str, np.ndarray]
    seconds: float


_worker_state = threading.local()


def _worker_model(spec: dict) -> tuple[nn.Module, nn.Module]:
    """This worker thread's model and loss for ``spec``, built once and reused every step."""
    key = json.dumps(spec, sort_keys=True)
    cached = getattr(_worker_state, "model", None)
    if cached is None or cached[0] != key:
        cached = _worker_state.model = (key, build_model(spec), loss_function(spec))
    return cached[1], cached[2]


def shard_gradient(
    data: tuple[np.ndarray, np.ndarray],
    spec: dict,
    weights: dict[str, np.ndarray],
    indices: np.ndarray,
) -> ShardResult:
    """Run on a worker: the gradient of the mean loss over rows ``indices`` of ``data``
    (features, targets), at ``weights``."""
    started = time.perf_counter()
    model, criterion = _worker_model(spec)
    model.load_state_dict(weights)
    model.train()
    model.zero_grad()
    features, batch_targets = data
    loss = criterion(model(Tensor(features[indices])), Tensor(batch_targets[indices]))
    value = loss.item()
    loss.backward()
    gradients = {name: param.grad.data for name, param in model.named_parameters()}
    distributed = require("distributed", "a chainrule worker")
    return ShardResult(
        worker=distributed.get_worker().address,
        count=len(indices),
        loss=value,
        gradients=gradients,
        seconds=time.perf_counter() - started,
    )


@dataclass
class WorkerTiming:
    """One worker's share of a run: steps and samples it computed, seconds it spent."""

    steps: int = 0
    samples: int = 0
    compute_seconds: float = 0.0


@dataclass
class StepTiming:
    """The driver's view of all steps: wall time, and time the slowest shard computed.

    Everything else in a step (sending weights, scheduling, returning gradients,
    averaging) is communication and coordination.
    """

    steps: int = 0
    step_seconds: float = 0.0
    compute_seconds: float = 0.0
    rescheduled_shards: int = 0
    workers: dict[str, WorkerTiming] = field(default_factory=dict)

    def summary(self) -> dict:
        """JSON-ready figures: per-step means, the communication share, per-worker timing."""
        steps = max(self.steps, 1)
        share = 1.0 - self.compute_seconds / self.step_seconds if self.step_seconds else 0.0
        return {
            "steps": self.steps,
            "step_ms": 1e3 * self.step_seconds / steps,
            "compute_ms": 1e3 * self.compute_seconds / steps,
            "communication_share": share,
            "rescheduled_shards": self.rescheduled_shards,
            "workers": {
                address: {
                    "steps": timing.steps,
                    "samples": timing.samples,
                    "compute_seconds": timing.compute_seconds,
                }
                for address, timing in sorted(self.workers.items())
            },
        }


class DataParallel:
    """:func:`chainrule.training.fit` with each batch's gradient computed by Dask workers.

    ``with connect(workers=2) as client: DataParallel(client).fit(model, spec, ...)`` takes
    fit's arguments and returns its rows; ``timing`` then holds per-step and per-worker times.
    """

    def __init__(self, client: Any, step_timeout: float = STEP_TIMEOUT) -> None:
        self.client = client
        self.step_timeout = step_timeout
        self.timing = StepTiming()

    @property
    def address(self) -> str:
        """The scheduler's address."""
        return str(self.client.scheduler.address)

    def fit(
        self,
        model: nn.Module,
        spec: dict,
        train: tuple[np.ndarray, np.ndarray],
        val: tuple[np.ndarray, np.ndarray],
        optimizer: optim.Optimizer,
        epochs: int,
        batch_size: int,
        seed: int,
        on_batch: BatchCallback | None = None,
        on_epoch: Callable[[dict], None] | None = None,
    ) -> list[dict]:
        """Train as :func:`~chainrule.training.fit` does (same arguments, same rows)."""
        rows: list[dict] = []

        def record(row: dict) -> None:
            rows.append(row)
            if on_epoch is not None:
                on_epoch(row)

        data = None
        try:
            [data] = self.client.scatter(
                [(train[0], targets(train[1], spec))], broadcast=True, hash=False
            )
            step = self._step_function(model, spec, data)
            return fit(
                model, spec, train, val, optimizer, epochs, batch_size, seed, on_batch, record, step
            )
        except CONNECTION_LOSS as error:
            raise SchedulerLostError(self.address, _describe(error), rows) from None
        finally:
            if data is not None:  # the workers may drop their copies of the training set
                with suppress(*CONNECTION_LOSS):
                    data.release()

    def _step_function(self, model: nn.Module, spec: dict, data: Any) -> Callable:
        parameters = dict(model.named_parameters())

        def gradient(indices: np.ndarray) -> float:
            workers = sorted(self.client.nthreads())  # the workers alive now
            if not workers:
                raise ConnectionError("no workers are left")
            weights = model.state_dict()
            shards = [s for s in np.array_split(indices, len(workers)) if len(s)]
            started = time.perf_counter()
            futures = [
                self.client.submit(
                    shard_gradient,
                    data,
                    spec,
                    weights,
                    shard,
                    workers=[worker],
                    allow_other_workers=True,
                    pure=False,
                )
                for shard, worker in zip(shards, workers, strict=False)
            ]
            deadline = started + self.step_timeout
            try:
                results: list[ShardResult] = [
                    future.result(timeout=max(deadline - time.perf_counter(), 0.0))
                    for future in futures
                ]
            except TimeoutError:
                raise TimeoutError(f"no gradients within {self.step_timeout:g} s") from None
            self._record(time.perf_counter() - started, results, workers)
            total = len(indices)
            for name, param in parameters.items():
                param.grad = Tensor(sum((r.count / total) * r.gradients[name] for r in results))
            return sum(r.count * r.loss for r in results) / total

        return gradient

    def _record(self, seconds: float, results: list[ShardResult], asked: list[str]) -> None:
        timing = self.timing
        timing.steps += 1
        timing.step_seconds += seconds
        timing.compute_seconds += max(r.seconds for r in results)
        for result, worker in zip(results, asked, strict=False):
            timing.rescheduled_shards += result.worker != worker
            own = timing.workers.setdefault(result.worker, WorkerTiming())
            own.steps += 1
            own.samples += result.count
            own.compute_seconds += result.seconds


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
