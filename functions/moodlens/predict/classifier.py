"""A face classifier applied exactly as its card says: normalisation, test-time flip, prior correction, temperature.

Training evaluates its models through this class too, so the accuracy on a card is what serving delivers.
"""

from collections.abc import Callable

import numpy as np

from moodlens.modelcard import ClassifierInput, ModelCard, calibrated_probabilities
from moodlens.predict.runtime import Network, batches, spread

# Faces per network call (twice as many crops with test-time flip): an interpreter's working memory grows with its
# largest batch, and keeps that size. A photo's calls run a thread each, each thread with its own kept interpreter.
CHUNK = 8


class Classifier:
    def __init__(self, card: ModelCard, network: Callable[[np.ndarray], np.ndarray] | None = None, threads: int = 1):
        """`network`: normalised faces to logits; by default the card's runtime file. Training passes its Keras
        model's predict_on_batch before a runtime file exists. `threads`: how many calls of one photo's faces run
        at once, each on one thread."""
        if card.classifier_input is None:
            raise ValueError(f"{card.name} is not a classifier")
        self.card = card
        self.input: ClassifierInput = card.classifier_input
        if network is None:
            largest = 2 * CHUNK * self.input.height * self.input.width * self.input.channels
            converted = Network(card.runtime_weights, kept=threads, max_values=largest)
            network = lambda batch: converted(batch)[0]  # noqa: E731 - the network's one output
        self.network = network
        self.threads = threads
        self.offsets = np.zeros(len(card.classes)) if card.logit_offsets is None else card.logit_offsets

    @property
    def pixel_shape(self) -> tuple[int, int, int]:
        return self.input.height, self.input.width, self.input.channels

    def logits(self, pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """pixels: (N, H, W, C) uint8 crops. The logits of each face, and of its mirror image when the card
        asks for test-time flip (None otherwise), with the card's logit offsets added."""
        flip = self.input.test_time_flip

        def read(part: slice) -> tuple[np.ndarray, np.ndarray]:
            x = self.input.network_input(pixels[part])
            # Face and mirror in one call.
            out = np.asarray(self.network(np.concatenate([x, x[:, :, ::-1]]) if flip else x), np.float64)
            return out[: len(x)], out[len(x) :]

        runs = spread(read, batches(len(pixels), CHUNK, self.threads), self.threads)
        if not runs:
            empty = np.zeros((0, len(self.card.classes)))
            return empty, empty if flip else None
        plain, mirrored = (np.concatenate(parts) + self.offsets for parts in zip(*runs))
        return plain, mirrored if flip else None

    def probabilities(self, pixels: np.ndarray) -> np.ndarray:
        """(N, 7) probabilities in the card's class order."""
        plain, mirrored = self.logits(pixels)
        return calibrated_probabilities(plain, self.card.temperature, mirrored)
