"""The one way serving runs a network: a LiteRT (TensorFlow Lite) flatbuffer made by `python -m training.convert`.

LiteRT imports in about 0.1 s and 40 MB where TensorFlow takes seconds and half a gigabyte, which is what a cold
start of a serverless function pays. Each converted file has one signature: input `pixels` (float32), outputs
`output_0`, `output_1`, ... in the order the Keras network returns them.
"""

import threading
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
    (threads, workers), and on a busy machine more threads per call only add switching."""

    def __init__(self, path: Path, threads: int = 1):
        self.path = Path(path)
        self.threads = threads
        self._local = threading.local()
        # Load at once: a missing or broken file fails when the model loads, not at a user's photo.
        self._runner()

    def _runner(self):
        runner = getattr(self._local, "runner", None)
        if runner is None:
            from ai_edge_litert.interpreter import Interpreter

            interpreter = Interpreter(model_path=str(self.path), num_threads=self.threads)
            runner = self._local.runner = interpreter.get_signature_runner()
            self.outputs = len(runner.get_output_details())
        return runner

    def __call__(self, batch: np.ndarray) -> list[np.ndarray]:
        # The signature runner resizes its input to each batch's shape (the pyramid's sizes, the number of faces).
        found = self._runner()(**{INPUT_NAME: np.ascontiguousarray(batch, np.float32)})
        return [found[output_name(index)] for index in range(self.outputs)]
