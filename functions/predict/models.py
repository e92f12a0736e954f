"""Model cards and the networks they describe, each loaded once per process on first use.

TensorFlow, Keras and mtcnn are imported only inside the loaders: importing this module stays cheap, so a
functions-framework process can fork or start before any model exists.
"""

import json
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from config import settings
from predict.yolo import softmax

log = logging.getLogger(__name__)

DEFAULT_MODEL = "inception-resnet"
# Old clients send this misspelling; it must keep meaning the default model.
ALIASES = {"incpetion-resnet": DEFAULT_MODEL}
EMOTIONS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")

# Used for one-pass readers whose card has no crop rule: the face crop is then the detector's box.
PLAIN_CROP = {"align_eyes": False, "box_scale": 1.0, "center_dy": 0.0}


@dataclass(frozen=True)
class ModelCard:
    path: Path
    raw: dict

    @property
    def name(self) -> str:
        return self.raw["name"]

    @property
    def kind(self) -> str:
        return self.raw["kind"]

    @property
    def classes(self) -> list[str]:
        return self.raw["classes"]

    @property
    def crop(self) -> dict:
        return self.raw.get("crop", PLAIN_CROP)

    @property
    def weights(self) -> Path:
        return self.path.parent / self.raw["file"]


class ModelUnavailable(Exception):
    pass


def read_card(path: Path) -> ModelCard:
    card = ModelCard(path, json.loads(path.read_text()))
    if sorted(card.classes) != sorted(EMOTIONS):
        raise ModelUnavailable(f"{path}: classes {card.classes} are not the 7 emotions")
    return card


def available_cards(models_dir: Path | None = None) -> dict[str, ModelCard]:
    cards = {}
    for path in sorted(Path(models_dir or settings.models_dir).glob("*.json")):
        # One broken card must not take the other models down with it.
        try:
            card = read_card(path)
        except (OSError, ValueError, KeyError, ModelUnavailable):
            log.exception("skipping model card %s", path)
            continue
        cards[card.name] = card
    return cards


def resolve(requested) -> ModelCard:
    """The card of the model that will actually run for a request's `model` value.

    Cards are re-read at each call (a few small files): a model added later runs without a restart."""
    cards = available_cards()
    # Anything but a string (a number, a list from a confused client) asks for nothing in particular.
    name = ALIASES.get(requested, requested) if isinstance(requested, str) else DEFAULT_MODEL
    if name in cards:
        return cards[name]
    if DEFAULT_MODEL in cards:
        return cards[DEFAULT_MODEL]
    raise ModelUnavailable(f"no model card for {DEFAULT_MODEL} in {settings.models_dir}")


_cache: dict[str, object] = {}
_cache_lock = threading.Lock()


def _cached(key: str, load):
    # Double-checked: the common path takes no lock; concurrent first requests load once.
    if key not in _cache:
        with _cache_lock:
            if key not in _cache:
                _cache[key] = load()
    return _cache[key]


class Classifier:
    """A Keras classifier applied the way its card says: normalisation, flip averaging, temperature."""

    def __init__(self, card: ModelCard):
        import keras

        self.card = card
        self.input = card.raw["input"]
        self.model = keras.saving.load_model(card.weights, compile=False)
        # predict_on_batch runs a compiled graph, several times faster than an eager call on a CPU. It traces once
        # for the first batch size and once more, for any size, at the second: pay both here, under the load lock.
        width, height = self.input_size
        for batch in (1, 2):
            self.model.predict_on_batch(np.zeros((batch, height, width, self.channels), np.float32))

    @property
    def input_size(self) -> tuple[int, int]:
        return self.input["width"], self.input["height"]

    @property
    def channels(self) -> int:
        return self.input["channels"]

    def probabilities(self, pixels: np.ndarray) -> np.ndarray:
        """pixels: (N, H, W, C) uint8 crops; returns (N, 7) probabilities in card class order."""
        norm = self.input["normalization"]
        x = (pixels.astype(np.float32) * norm["scale"] - norm["mean"]) / norm["std"]
        flip = bool(self.card.raw.get("test_time_flip"))
        if flip:
            x = np.concatenate([x, x[:, :, ::-1]])
        out = np.asarray(self.model.predict_on_batch(x), dtype=np.float64)
        if self.card.raw.get("output", "logits") == "logits":
            out = softmax(out, float(self.card.raw.get("temperature", 1.0)))
        if flip:
            out = (out[: len(pixels)] + out[len(pixels) :]) / 2
        return out / out.sum(axis=1, keepdims=True)


def classifier(card: ModelCard) -> Classifier:
    return _cached("classifier:" + card.name, lambda: Classifier(card))


def mtcnn():
    def load():
        import tensorflow as tf
        from mtcnn import MTCNN

        detector = MTCNN()
        # mtcnn 1.0.0 calls its three Keras networks eagerly; as graphs they run 2-3 times faster on a CPU.
        # reduce_retracing: the image pyramid's many input sizes share a few traces instead of one each.
        for stage in detector.stages:
            stage._model = tf.function(stage.model, reduce_retracing=True)
        return detector

    return _cached("mtcnn", load)


def face_reader(card: ModelCard):
    def load():
        from predict.yolo import YoloFaceReader

        return YoloFaceReader(card.path)

    return _cached("reader:" + card.name, load)
