"""The pipeline gives the shared photos the same faces and probabilities as the code before the serving redesign.

data/answers-06cfc40.json was made at commit 06cfc40 (before functions/ became the moodlens package, and while
serving still ran TensorFlow) by running every shared photo through every model and rounding to 6 decimals.
Faces are matched by their box: the answer now lists them in reading order (issue 18), which the stored file, made
before, does not.

Serving now runs LiteRT and MTCNN's stages in numpy. Every face keeps its box and its probabilities within 1e-4,
except one (KNOWN_DIFFERENCES): the old serving ran mtcnn's networks as compiled TensorFlow graphs, whose floats
differ a little from the package's own (eager) run, and on that face, cut by the photo's bottom edge, the package
itself gives the box the new path gives (tests/predict/test_runtime_equivalence.py compares with the package).

yolo3 (int8) and inception-resnet (int8 weights) now run quantized, so their served answers moved by more than
rounding: test_runtime_equivalence.py holds them to their Keras models within bounds, and their cards' metrics are
measured on the quantized files. inception-resnet's probabilities are still compared here, through its stored member,
a float32 Keras network.

The classifiers run here without their cards' contrast_floor, which came later (issue 19) and changes flat faces'
probabilities on purpose. inception-resnet's stored network is now the first of the networks its file joins
(training.ensemble): its probabilities are compared through that member, read alone with serving's flip averaging
and its own temperature, as it was served then. A classifier retrained since keeps
only MTCNN's boxes and confidences to match: its probabilities are a new model's.
"""

import functools
import hashlib
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from moodlens.modelcard import FLOAT32
from moodlens.predict import catalog, finders, pipeline
from moodlens.predict.classifier import Classifier
from moodlens.settings import Settings

pytestmark = pytest.mark.unit

STORED = json.loads((Path(__file__).parent / "data" / "answers-06cfc40.json").read_text())
SETTINGS = Settings()
# (photo, stored box): how far that box may move in pixels, and its probabilities, which follow the crop.
KNOWN_DIFFERENCES = {("dlib_bald_guys.jpg", (71, 669, 143, 191)): (3, 0.04)}
# sha256 (first 16 hex digits) of each classifier's Keras file when the answers were stored.
STORED_WEIGHTS = {"inception-resnet": "7fed00078fec8d9c", "mobilenetv2": "bcaf5a5f5a05ba75"}
# sha256 (first 16 hex digits) of the weight arrays of the network in inception-resnet's 7fed00078fec8d9c file, now
# the first member of the shipped file.
STORED_MEMBER = {"inception-resnet": "0343b1dba1136c96"}
# That network's calibration temperature (its card's when the answers were stored; the joined card has its own).
STORED_MEMBER_TEMPERATURE = {"inception-resnet": 0.96}
# Models whose probabilities can still be compared: float32 files, and inception-resnet through its stored member (a
# Keras network, float32 whatever the precision of the served file).
FLOAT_MODELS = sorted(
    name
    for name, card in catalog.available_cards(SETTINGS.models_dir).items()
    if card.runtime_precision == FLOAT32 or name in STORED_MEMBER
)


@functools.cache
def same_weights(model: str) -> bool:
    card = catalog.resolve(model, SETTINGS.models_dir)
    return hashlib.sha256(card.weights.read_bytes()).hexdigest()[:16] == STORED_WEIGHTS.get(model)


@functools.cache
def stored_member(model: str):
    """The stored network as a Keras model, where the shipped file joins it with others as its first member."""
    import keras

    network = keras.saving.load_model(catalog.resolve(model, SETTINGS.models_dir).weights, compile=False)
    if "member_1" not in [layer.name for layer in network.layers]:
        return None
    member = network.get_layer("member_1")
    weights = hashlib.sha256(b"".join(np.asarray(array).tobytes() for array in member.get_weights()))
    return member if weights.hexdigest()[:16] == STORED_MEMBER.get(model) else None


def as_stored(card):
    """The card without its contrast_floor, under another name: finders are loaded once per card name."""
    if card.classifier_input is None:
        return card
    return replace(
        card, name=f"{card.name} as stored", classifier_input=replace(card.classifier_input, contrast_floor=None)
    )


@pytest.mark.parametrize("photo", sorted(STORED))
def test_answers_are_unchanged(photos_dir, photo):
    data = (photos_dir / photo).read_bytes()
    assert set(FLOAT_MODELS) >= {"inception-resnet", "mobilenetv2"}
    assert stored_member("inception-resnet")  # the probabilities are compared for one model at least
    for model in FLOAT_MODELS:
        stored = STORED[photo][model]
        card = as_stored(catalog.resolve(model, SETTINGS.models_dir))
        member = None if same_weights(model) else stored_member(model)
        if member is not None:  # this card's finder (loaded once, under its own name) reads with the stored network
            alone = replace(
                card,
                temperature=STORED_MEMBER_TEMPERATURE[model],
                logit_offsets=None,  # the joined card's correction, not the stored network's
                classifier_input=replace(card.classifier_input, test_time_flip=True),
            )
            finders.finder_for(card, SETTINGS).classifier = Classifier(alone, network=member.predict_on_batch)
        prediction = pipeline.run(data, card, SETTINGS)
        assert len(prediction.faces) == len(stored), model
        answered = np.array([face.box for face in prediction.faces]).reshape(-1, 4)
        matched = set()
        for expected in stored:
            box_px, probability = KNOWN_DIFFERENCES.get((photo, tuple(expected["box"])), (0, 1e-4))
            nearest = int(np.argmin(np.abs(answered - expected["box"]).max(axis=1)))
            face = prediction.faces[nearest]
            assert face.box == pytest.approx(expected["box"], abs=box_px), (model, expected["box"])
            assert face.confidence == pytest.approx(expected["confidence"], abs=max(1e-4, probability / 4)), model
            if same_weights(model) or member is not None:
                assert face.probabilities.tolist() == pytest.approx(expected["probabilities"], abs=probability), model
            matched.add(nearest)
        assert len(matched) == len(stored), model
