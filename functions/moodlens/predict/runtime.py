"""The one way serving runs a network: a LiteRT (TensorFlow Lite) flatbuffer made by `python -m training.convert`.

LiteRT imports in about 0.1 s and 40 MB where TensorFlow takes seconds and half a gigabyte, which is what a cold
start of a serverless function pays. Each converted file has one signature: input `pixels` (float32), outputs
`output_0`, `output_1`, ... in the order the Keras network returns them.
"""

import math
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np

INPUT_NAME = "pixels"
# The files of MTCNN's three networks, in the order its stages run them (models/mtcnn/<name>.tflite).
MTCNN_NETS = ("pnet", "rnet", "onet")


def output_name(index: int) -> str:
    return f"output_{index}"


class Network:
    """A converted network, callable on a float32 batch; returns its outputs as a list, in the Keras order.

    An interpreter is not safe to share between threads, so each thread that calls gets its own; they share the
    weights, which the interpreter maps from the file. One thread per call: serving runs several requests at once
    (threads, workers), and on a busy machine more threads per call only add switching.

    A new input shape makes an interpreter plan its memory and prepare its kernels again (4-10 ms), so each thread
    keeps an interpreter for each recent shape, the most recent first, while their inputs hold no more than
    `kept_values` numbers in all (their working memory grows with the input): yolo3 reads every photo at two sizes,
    a classifier sees a few batch sizes, PNet sees every pyramid level of the photo sizes it is sent (a camera's
    frames always have the same)."""

    def __init__(self, path: Path, kept_values: int = 0, threads: int = 1):
        self.path = Path(path)
        self.kept_values = kept_values
        self.threads = threads
        self._local = threading.local()
        # Load at once: a missing or broken file fails when the model loads, not at a user's photo.
        self.outputs = len(self._runner(None).get_output_details())

    def _runner(self, shape: tuple[int, ...] | None):
        kept: OrderedDict = self._local.__dict__.setdefault("runners", OrderedDict())
        if shape in kept:
            kept.move_to_end(shape)
            return kept[shape]
        from ai_edge_litert.interpreter import Interpreter

        runner = Interpreter(model_path=str(self.path), num_threads=self.threads).get_signature_runner()
        kept[shape] = runner
        while len(kept) > 1 and sum(math.prod(kept_shape or ()) for kept_shape in kept) > self.kept_values:
            kept.popitem(last=False)
        return runner

    def __call__(self, batch: np.ndarray) -> list[np.ndarray]:
        batch = np.ascontiguousarray(batch, np.float32)
        # The signature runner resizes its input to the batch's shape when it differs from the last call's.
        found = self._runner(batch.shape)(**{INPUT_NAME: batch})
        return [found[output_name(index)] for index in range(self.outputs)]
