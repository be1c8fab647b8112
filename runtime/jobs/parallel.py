"""Every local core: compress and decompress in worker processes, with the same bytes as one process.

Each worker loads the model once (onnxruntime with one intra-op thread: the processes are the
parallelism) and does the expensive part of its share itself: reading and preprocessing image files,
or drawing PNGs. Tasks are small and few are in flight, so memory stays bounded per worker; results
come back in input order, so failures, warnings and the file written are those of the serial path.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import AeonnxError
from ..model import Autoencoder, load
from ..pictures import inputs
from . import compress, engine

if TYPE_CHECKING:  # concurrent.futures (and logging with it) loads only when workers start
    from concurrent.futures import Future

IMAGES_PER_TASK = 512  # image files a worker reads per task: ~50 ms of work, small enough to balance
CODES_PER_TASK = engine.DECODE_CHUNK  # codes a worker draws as PNGs per task
IN_FLIGHT_PER_WORKER = 2  # tasks queued per worker: one running, one waiting; bounds memory
# Without --jobs, as many workers as the work holds multiples of these, so two start at twice the amount:
# each is a batch size at which N workers already beat or match one process, the pool's start-up against
# the price per item it saves. `python -m bench.workers` (2 cores, tmpfs, docs/benchmarks.md): decompress
# to PNGs, --jobs 2 took 1.33x the time of --jobs 1 at 3,000 codes, 0.91x at 10,000, 0.79x at 20,000;
# compress of a PNG folder, 1.71x at 1,000 files, 0.89x at 10,000, 0.75x at 20,000. Of 100,000 .npz digits, read
# fast and encoded at 30,000-40,000/s in one process, two runs disagreed (0.64x, 1.33x): about there.
AUTO_WORK_PER_WORKER = {"image files": 10_000, "array digits": 100_000, "codes": 10_000}


def available_cores() -> int:
    """The cores this process may run on (a container's or taskset's limit, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@dataclass(frozen=True)
class ModelRef:
    """What a worker needs to load the same model as the caller's, by value (models cross processes as names)."""

    name: str
    models_dir: str | None
    device: str
    variant: str
    part: str

    @classmethod
    def of(cls, model: Autoencoder, part: str) -> ModelRef:
        return cls(model.name, os.fspath(model.models_dir), model.device, model.variant, part)

    def load(self) -> Autoencoder:
        return load(self.name, self.models_dir, self.device, threads=1, variant=self.variant, part=self.part)


class LocalProcesses(engine.Engine):
    """`jobs` worker processes. Work too small to share (one task) stays in this process: no start-up cost."""

    def __init__(self, jobs_count: int | None = None):
        if jobs_count is not None and jobs_count < 1:
            raise AeonnxError(f"--jobs must be at least 1; got {jobs_count}")
        self.asked = jobs_count  # None: every available core, where the work pays for starting them
        self.jobs = jobs_count or available_cores()

    def encode(self, job: compress.CompressJob, model: Autoencoder) -> Iterator[inputs.Failure | engine.Encoded]:
        files = len(job.plan.image_files)
        workers = self.encode_workers(files, max(0, job.count() - files))
        if workers == 1:
            return engine.encode_serially(job, model)
        return _ordered(workers, ModelRef.of(model, "encoder"), _encode_tasks(job))

    def encode_workers(self, files: int, digits: int) -> int:
        """The processes that encode `files` image files and `digits` array digits (bench.workers asks too)."""
        tasks = -(-files // IMAGES_PER_TASK) + -(-digits // inputs.CHUNK)
        return self._workers(
            tasks, files / AUTO_WORK_PER_WORKER["image files"] + digits / AUTO_WORK_PER_WORKER["array digits"]
        )

    def render_workers(self, codes: int) -> int:
        """The processes that draw `codes` codes as PNGs."""
        return self._workers(-(-codes // CODES_PER_TASK), codes / AUTO_WORK_PER_WORKER["codes"])

    def render(self, model: Autoencoder, z: np.ndarray) -> Iterator[bytes]:
        workers = self.render_workers(len(z))
        if workers == 1:
            return engine.render_serially(model, z)
        tasks = ((_render, z[start : start + CODES_PER_TASK]) for start in range(0, len(z), CODES_PER_TASK))
        return (png for pngs in _ordered(workers, ModelRef.of(model, "decoder"), tasks) for png in pngs)

    def _workers(self, tasks: int, worth: float) -> int:
        """As many workers as asked (without --jobs: as the work is `worth`), never more than the tasks."""
        wanted = self.jobs if self.asked else min(self.jobs, int(worth))
        return max(1, min(wanted, tasks))


def _encode_tasks(job: compress.CompressJob) -> Iterator[tuple]:
    """The job as tasks in input order: the plan's failures as they are, image files in slices that the
    workers read themselves, and array files read here (fast) in chunks that the workers encode."""
    yield from ((None, failure) for failure in job.plan.failures)
    files = job.plan.image_files
    how = replace(job, plan=inputs.Plan())  # the reading options travel with each task; the plan does not
    for start in range(0, len(files), IMAGES_PER_TASK):
        yield _encode_files, how, files[start : start + IMAGES_PER_TASK]
    arrays_only = inputs.Plan(array_files=job.plan.array_files)
    for item in job.chunks(arrays_only):
        yield (None, item) if isinstance(item, inputs.Failure) else (_encode_digits, item, job.precision)


def _ordered(workers: int, model: ModelRef, tasks: Iterable[tuple]) -> Iterator:
    """Run `tasks` ((function, *arguments), or (None, result) to pass a result through) in `workers`
    processes, a bounded number at a time; their results in task order. Any error or Ctrl-C stops the
    processes before it goes on: nothing is left running."""
    pending: deque[Future] = deque()
    pool = _start_pool(workers, model)
    try:
        for function, *arguments in tasks:
            pending.append(_done(arguments[0]) if function is None else _submit(pool, function, *arguments))
            if len(pending) >= workers * IN_FLIGHT_PER_WORKER:
                yield from _result(pending.popleft())
        while pending:
            yield from _result(pending.popleft())
    finally:
        _stop(pool)


def _result(future: Future) -> list:
    from concurrent.futures.process import BrokenProcessPool

    try:
        return future.result()
    except BrokenProcessPool:
        raise AeonnxError("a worker process died (out of memory?); nothing written: try fewer --jobs") from None


def _done(value) -> Future:
    from concurrent.futures import Future

    future = Future()
    future.set_result([value])
    return future


STOPPING = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}  # what stops a command (cli.app main), in its parent


@contextlib.contextmanager
def _stopping_blocked():
    """Ctrl-C, SIGTERM and SIGHUP held back while worker processes start: they inherit the blocked mask and never
    see them (the parent stops them), and one sent meanwhile reaches this process as soon as the block ends."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOPPING)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _start_pool(workers: int, model: ModelRef):
    import multiprocessing  # here: the start-up of every command does without it
    from concurrent.futures import ProcessPoolExecutor

    # spawn, not fork: this process may already run onnxruntime's threads, which a fork would not copy.
    return ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_load_worker_model,
        initargs=(model, os.getpid()),
    )


def _submit(pool, function: Callable, *arguments) -> Future:
    with _stopping_blocked():  # workers are started on demand, inside submit
        return pool.submit(function, *arguments)


def _stop(pool) -> None:
    """Cancel what has not started and wait for the tasks that run (each is about 50 ms of work, see
    IMAGES_PER_TASK): no process outlives the command.

    The workers are not terminated: on Python 3.11 a worker ended under the executor made its thread fail
    on a cancelled future (InvalidStateError), or at exit on a closed pipe, with a traceback after the
    one-line message; the executor's own cancel (cancel_futures) and a normal shutdown have no such race."""
    pool.shutdown(wait=True, cancel_futures=True)


# --- in the worker processes ----------------------------------------------------------------------
_model: Autoencoder | None = None


def _load_worker_model(model: ModelRef, parent: int) -> None:
    global _model
    for signum in STOPPING:  # the parent handles them and stops the workers
        signal.signal(signum, signal.SIG_IGN)
    _die_with(parent)
    _model = model.load()


PR_SET_PDEATHSIG = 1  # linux/prctl.h
WATCH_SECONDS = 1.0


def _die_with(parent: int) -> None:
    """A worker never outlives its command, even one killed with SIGKILL: Linux kills it with its parent
    (prctl PR_SET_PDEATHSIG); elsewhere a thread sees it orphaned within WATCH_SECONDS and ends it."""
    import ctypes
    import threading

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the request was made
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def _watch_parent(parent: int) -> None:
    import time

    while os.getppid() == parent:
        time.sleep(WATCH_SECONDS)
    os._exit(1)


def _encode_files(job: compress.CompressJob, files: list[tuple[Path, str]]) -> list:
    """Read, preprocess and encode one slice of the job's image files, as the serial path would."""
    todo = inputs.Plan(image_files=files)
    return [
        item if isinstance(item, inputs.Failure) else _without_pixels(engine.encode_chunk(item, _model, job.precision))
        for item in job.chunks(todo, chunk=len(files))
    ]


def _encode_digits(chunk: inputs.Chunk, precision: str) -> list:
    return [_without_pixels(engine.encode_chunk(chunk, _model, precision))]


def _without_pixels(encoded: engine.Encoded) -> engine.Encoded:
    """What goes back to the parent: codes, names, sizes, assessment; never the pixels."""
    return replace(encoded, chunk=engine.without_pixels(encoded.chunk))


def _render(z: np.ndarray) -> list[list[bytes]]:
    return [list(engine.render_serially(_model, z))]
