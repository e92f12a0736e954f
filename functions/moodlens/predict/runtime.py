"""The one way serving runs a network: a LiteRT (TensorFlow Lite) flatbuffer made by `python -m training.convert`.

LiteRT imports in about 0.1 s and 40 MB where TensorFlow takes seconds and half a gigabyte, which is what a cold
start of a serverless function pays. Each converted file has one signature: input `pixels` (float32), outputs
`output_0`, `output_1`, ... in the order the Keras network returns them.
"""

import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

INPUT_NAME = "pixels"
# The files of MTCNN's three networks, in the order its stages run them (models/mtcnn/<name>.tflite).
MTCNN_NETS = ("pnet", "rnet", "onet")


def output_name(index: int) -> str:
    return f"output_{index}"


class Network:
    """A converted network, callable on a float32 batch; returns its outputs as a list, in the Keras order.

    An interpreter runs one call at a time, so calls take one from a pool of idle interpreters (the interpreter
    releases Python's lock while it runs: calls from several threads run in parallel). Making an interpreter, or
    giving it a new input shape, costs 4-10 ms (memory planning, kernel preparation), so up to `kept` idle
    interpreters are kept, the most recently used, each ready for the shape it last ran: yolo3 reads every photo
    at two sizes, a classifier sees a few batch sizes, PNet sees every level of an image pyramid.

    An interpreter's working memory grows to the largest input it has run and never shrinks, so an input of more
    than `max_values` numbers (the large pyramid levels of a big photo, a crowd's batch) runs on an interpreter made
    for it and dropped after: memory stays bounded by `kept` interpreters of at most `max_values` inputs.

    Each call runs on `threads` threads, and as many calls at once as there are CPUs for them: a large network
    (PNet, yolo3) runs one call at a time on every core, so one photo is answered sooner, and calls take turns;
    more at once would only take turns on the same cores."""

    def __init__(self, path: Path, kept: int = 1, max_values: int = 0, threads: int = 1):
        self.path = Path(path)
        self.kept = kept
        self.max_values = max_values
        self.threads = threads
        self._slots = threading.BoundedSemaphore(max(1, len(os.sched_getaffinity(0)) // threads))
        self._lock = threading.Lock()
        self._idle: list[tuple[tuple[int, ...] | None, Any]] = []
        # Load at once: a missing or broken file fails when the model loads, not at a user's photo.
        runner = self._new()
        self.outputs = len(runner.get_output_details())
        self._idle.append((None, runner))

    def _new(self):
        from ai_edge_litert.interpreter import Interpreter

        return Interpreter(model_path=str(self.path), num_threads=self.threads).get_signature_runner()

    def _take(self, shape: tuple[int, ...]):
        with self._lock:
            # One already shaped for this input if there is one; else a new one while fewer than `kept` are idle;
            # else the one idle longest, reshaped.
            ready = [index for index, (idle_shape, _) in enumerate(self._idle) if idle_shape == shape]
            if ready or len(self._idle) >= self.kept:
                return self._idle.pop(ready[-1] if ready else 0)[1]
        return self._new()

    def _give_back(self, shape: tuple[int, ...], runner) -> None:
        with self._lock:
            self._idle.append((shape, runner))
            del self._idle[: -self.kept]

    def __call__(self, batch: np.ndarray) -> list[np.ndarray]:
        batch = np.ascontiguousarray(batch, np.float32)
        pooled = batch.size <= self.max_values
        with self._slots:
            runner = self._take(batch.shape) if pooled else self._new()
            # The signature runner resizes its input to the batch's shape when it differs from the last call's.
            found = runner(**{INPUT_NAME: batch})
            if pooled:
                self._give_back(batch.shape, runner)
        return [found[output_name(index)] for index in range(self.outputs)]
