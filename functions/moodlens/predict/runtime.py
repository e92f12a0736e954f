"""The one way serving runs a network: a LiteRT (TensorFlow Lite) flatbuffer made by `python -m training.convert`.

LiteRT imports in about 0.1 s and 40 MB where TensorFlow takes seconds and half a gigabyte, which is what a cold
start of a serverless function pays. Each converted file has one signature: input `pixels` (float32), outputs
`output_0`, `output_1`, ... in the order the Keras network returns them.
"""

import math
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

INPUT_NAME = "pixels"
# The files of MTCNN's three networks, in the order its stages run them (models/mtcnn/<name>.tflite).
MTCNN_NETS = ("pnet", "rnet", "onet")


def output_name(index: int) -> str:
    return f"output_{index}"


def cpus() -> int:
    return len(os.sched_getaffinity(0))


Item = TypeVar("Item")
Result = TypeVar("Result")
_executors: dict[int, ThreadPoolExecutor] = {}
_executors_lock = threading.Lock()


def spread(function: Callable[[Item], Result], items: Sequence[Item], threads: int) -> list[Result]:
    """`function` of each item, in order, on up to `threads` threads at once. The small networks (PNet on one pyramid
    level, RNet, ONet, the classifiers) gain little from a second thread inside one call, but two calls at once run
    on two cores in parallel (interpreters and numpy's large operations release Python's lock). `function` must not
    call spread itself: the threads are shared by every request, and a call waiting on its own tasks could wait on
    itself."""
    if threads <= 1 or len(items) <= 1:
        return [function(item) for item in items]
    with _executors_lock:
        if threads not in _executors:
            _executors[threads] = ThreadPoolExecutor(threads, thread_name_prefix=f"spread{threads}")
        executor = _executors[threads]
    return list(executor.map(function, items))


def batches(count: int, largest: int, threads: int) -> list[slice]:
    """`count` items cut into runs of at most `largest`, and into at least `threads` runs where there are enough
    items: one per thread that spread() gives them."""
    size = max(1, min(largest, math.ceil(count / max(1, threads))))
    return [slice(start, start + size) for start in range(0, count, size)]


class _Pool:
    """Idle interpreters, each ready for the input shape it last ran: at most `kept`, holding inputs of at most
    `values` numbers in all (an interpreter's working memory grows with its input), the most recently used."""

    def __init__(self, new, kept: int, values: float = math.inf):
        self.new, self.kept, self.values = new, kept, values
        self._lock = threading.Lock()
        self._idle: list[tuple[tuple[int, ...] | None, Any]] = []

    def take(self, shape: tuple[int, ...]):
        with self._lock:
            # One already shaped for this input if there is one; else a new one while there is room; else the one
            # idle longest, reshaped.
            ready = [index for index, (idle_shape, _) in enumerate(self._idle) if idle_shape == shape]
            if ready or (self._idle and len(self._idle) >= self.kept):
                return self._idle.pop(ready[-1] if ready else 0)[1]
        return self.new()

    def give_back(self, shape: tuple[int, ...] | None, runner) -> None:
        with self._lock:
            self._idle.append((shape, runner))
            while len(self._idle) > self.kept or (
                len(self._idle) > 1 and sum(math.prod(kept or ()) for kept, _ in self._idle) > self.values
            ):
                self._idle.pop(0)


class Network:
    """A converted network, callable on a float32 batch; returns its outputs as a list, in the Keras order.

    An interpreter runs one call at a time, so calls take one from a pool of idle interpreters (the interpreter
    releases Python's lock while it runs: calls from several threads run in parallel). Making an interpreter, or
    giving it a new input shape, costs 4-15 ms (memory planning and first touch, kernel preparation), so idle
    interpreters are kept, each ready for the shape it last ran: yolo3 reads every photo at two sizes, a classifier
    sees a few batch sizes, PNet sees every level of an image pyramid.

    An interpreter's working memory grows to the largest input it has run and never shrinks, so the pool keeps at
    most `kept` interpreters for inputs of at most `max_values` numbers, and at most `pooled_values` numbers of input
    in all; a larger input (the first pyramid levels of a big photo) runs on an interpreter made for it and dropped
    after.

    Each call runs on `threads` threads, and as many calls at once as there are CPUs for them: yolo3 runs one call
    at a time on every core (its large layers share out well), so one photo is answered sooner, and calls take turns;
    MTCNN's networks and the classifiers run one thread a call, several calls at once (spread); more at once than
    the CPUs would only take turns on the same cores."""

    def __init__(
        self, path: Path, kept: int = 1, max_values: int = 0, threads: int = 1, pooled_values: float = math.inf
    ):
        self.path = Path(path)
        self.max_values = max_values
        self.threads = threads
        self._slots = threading.BoundedSemaphore(max(1, cpus() // threads))
        self._pool = _Pool(self._new, kept, pooled_values)
        # Load at once: a missing or broken file fails when the model loads, not at a user's photo.
        runner = self._new()
        self.outputs = len(runner.get_output_details())
        self._pool.give_back(None, runner)

    def _new(self):
        from ai_edge_litert.interpreter import Interpreter

        return Interpreter(model_path=str(self.path), num_threads=self.threads).get_signature_runner()

    def __call__(self, batch: np.ndarray) -> list[np.ndarray]:
        batch = np.ascontiguousarray(batch, np.float32)
        pooled = batch.size <= self.max_values
        with self._slots:
            runner = self._pool.take(batch.shape) if pooled else self._new()
            # The signature runner resizes its input to the batch's shape when it differs from the last call's.
            found = runner(**{INPUT_NAME: batch})
            if pooled:
                self._pool.give_back(batch.shape, runner)
        return [found[output_name(index)] for index in range(self.outputs)]
