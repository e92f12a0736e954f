"""moodlens.modelcard: the shipped cards read as serving needs them, bad cards refused, and the shared math."""

import json
import math

import numpy as np
import pytest

from moodlens.modelcard import (
    CLASSIFIER,
    EMOTIONS,
    FLOAT32,
    INT8,
    INT8_WEIGHTS,
    ONE_PASS,
    CardError,
    ClassifierInput,
    CropRule,
    FaceCheck,
    FaceReread,
    LargeFaceRead,
    Normalization,
    calibrated_probabilities,
    parse_card,
    read_card,
    write_card,
)
from moodlens.ops import iou, nms, softmax
from moodlens.predict.annotate import COLOURS
from moodlens.settings import Settings

pytestmark = pytest.mark.unit

MODELS = Settings().models_dir


def test_the_emotions_are_fer2013s_order():
    assert EMOTIONS == ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")


def test_the_palette_the_pages_and_the_annotator_share_lists_the_emotions_in_order():
    # The pages take their list of emotions from this file's keys.
    assert tuple(COLOURS) == EMOTIONS
    assert all(len(colour) == 7 and colour.startswith("#") for colour in COLOURS.values())


@pytest.mark.parametrize(
    "name, temperature, accuracy, precision",
    # inception-resnet runs int8 weights (training.convert): its card is measured through that file.
    [("inception-resnet", 0.95, 0.7116, INT8_WEIGHTS), ("mobilenetv2", 0.88, 0.6868, FLOAT32)],
)
def test_shipped_classifier_cards(name, temperature, accuracy, precision):
    card = read_card(MODELS / f"{name}.json")
    assert (card.name, card.kind, card.classes) == (name, CLASSIFIER, EMOTIONS)
    assert (card.temperature, card.accuracy) == (temperature, accuracy)
    assert card.crop == CropRule(align_eyes=True, box_scale=1.0, center_dy=0.0)
    spec = card.classifier_input
    assert spec is not None and (spec.width, spec.height, spec.channels, spec.test_time_flip) == (48, 48, 1, True)
    assert (spec.normalization.mean, spec.normalization.std) == (0.5077, 0.255)
    assert card.one_pass_input is None and card.weights.is_file() and card.runtime_precision == precision


def test_the_contrast_floor_stretches_flat_faces_about_their_mean_and_leaves_the_others():
    rng = np.random.default_rng(0)
    flat = np.clip(rng.normal(120, 20, (48, 48, 1)), 0, 255).round()
    lively = np.clip(rng.normal(120, 60, (48, 48, 1)), 0, 255).round()
    pixels = np.stack([flat, lively]).astype(np.uint8)
    identity = Normalization(scale=1.0, mean=0.0, std=1.0)
    stretched = ClassifierInput(48, 48, 1, identity, True, contrast_floor=45.0).network_input(pixels)
    assert stretched[0].std() == pytest.approx(45.0, rel=0.02)
    assert stretched[0].mean() == pytest.approx(pixels[0].mean(), abs=0.5)
    np.testing.assert_array_equal(stretched[1], pixels[1].astype(np.float32))
    plain = ClassifierInput(48, 48, 1, identity, True).network_input(pixels)
    np.testing.assert_array_equal(plain, pixels.astype(np.float32))


def test_shipped_one_pass_card():
    card = read_card(MODELS / "yolo3.json")
    assert (card.kind, card.temperature, card.accuracy, card.runtime_precision) == (ONE_PASS, 0.78, 0.577, INT8)
    spec = card.one_pass_input
    assert spec is not None
    assert (spec.side, spec.strides, spec.confidence, spec.nms_iou, spec.min_side) == (416, (8, 16, 32), 0.25, 0.45, 8)
    assert spec.anchors.shape == (9, 2) and spec.second_read is None
    assert spec.large_face_read == LargeFaceRead(side=256, min_face_fraction=0.2)
    assert spec.face_check == FaceCheck(box_shrink=1.17, passes=2, min_score=0.8)
    assert spec.face_reread == FaceReread(
        face_sides=(40, 48, 56), context=3.0, sides=(128, 160, 192), min_confidence=0.05, min_iou=0.4
    )
    assert spec.network_sides == (416, 256, 128, 160, 192)
    assert card.crop == CropRule() and card.classifier_input is None


@pytest.mark.parametrize("sides", [[150, 192], [128, 160], [128], []])
def test_a_face_reread_that_the_network_cannot_take_is_refused(tmp_path, sides):
    """150 is no multiple of the largest stride (32); 160 cannot hold a cut of 3 x 56 px; each face side needs its
    own letterbox side."""
    raw = json.loads((MODELS / "yolo3.json").read_text())
    raw["face_reread"] = dict(raw["face_reread"], face_sides=[40, 56], sides=sides)
    with pytest.raises(CardError, match="face_reread"):
        parse_card(raw, tmp_path / "yolo3.json")


def _card(**changes):
    raw = json.loads((MODELS / "mobilenetv2.json").read_text())
    raw.update(changes)
    return raw


@pytest.mark.parametrize(
    "changes",
    [
        {"classes": ["happy", "sad"]},
        {"kind": "regressor"},
        {"file": "../elsewhere.keras"},
        {"temperature": 0},
        {"metrics": {"accuracy": 69.6}},
        {"output": "probabilities"},
        {"input": {"width": 48}},
        {"crop": {"align_eyes": True}},
        {"class_prior_correction": {"logit_offsets": {"happy": 0.1}}},
        {"class_prior_correction": {"logit_offsets": dict.fromkeys(EMOTIONS, float("nan"))}},
        {"class_prior_correction": {"logit_offsets": dict.fromkeys(EMOTIONS, "high")}},
    ],
)
def test_bad_cards_are_refused(tmp_path, changes):
    with pytest.raises(CardError):
        write_card(tmp_path / "bad.json", _card(**changes))
    assert not (tmp_path / "bad.json").exists()


def test_write_card_writes_what_read_card_reads(tmp_path):
    written = write_card(tmp_path / "copy.json", _card(name="copy", temperature=1.5))
    again = read_card(tmp_path / "copy.json")
    assert (written.name, again.name, again.temperature) == ("copy", "copy", 1.5)


def test_logit_offsets_are_read_in_the_cards_class_order_and_only_for_classifiers(tmp_path):
    offsets = {name: 0.1 * number for number, name in enumerate(reversed(EMOTIONS))}
    card = write_card(tmp_path / "corrected.json", _card(class_prior_correction={"logit_offsets": offsets}))
    np.testing.assert_allclose(card.logit_offsets, [offsets[name] for name in EMOTIONS])
    assert read_card(MODELS / "mobilenetv2.json").logit_offsets is None
    one_pass = json.loads((MODELS / "yolo3.json").read_text()) | {"class_prior_correction": {"logit_offsets": offsets}}
    with pytest.raises(CardError, match="for classifiers"):
        parse_card(one_pass, tmp_path / "yolo3.json")


def test_a_card_without_classes_says_so():
    with pytest.raises(CardError, match="classes"):
        parse_card({"name": "x"}, MODELS / "x.json")


def test_softmax_at_a_temperature():
    probabilities = softmax(np.array([[0.0, math.log(3.0)]]), temperature=1.0)
    np.testing.assert_allclose(probabilities, [[0.25, 0.75]])
    np.testing.assert_allclose(softmax(np.array([[0.0, 2 * math.log(3.0)]]), temperature=2.0), [[0.25, 0.75]])
    # Large logits do not overflow.
    np.testing.assert_allclose(softmax(np.array([[1000.0, 1000.0]])), [[0.5, 0.5]])


def test_calibrated_probabilities_average_a_face_and_its_mirror():
    plain = np.array([[0.0, math.log(3.0)]])
    mirrored = np.array([[math.log(3.0), 0.0]])
    np.testing.assert_allclose(calibrated_probabilities(plain, 1.0), [[0.25, 0.75]])
    np.testing.assert_allclose(calibrated_probabilities(plain, 1.0, mirrored), [[0.5, 0.5]])


def test_iou_and_nms():
    boxes = np.array([[0, 0, 10, 10], [5, 0, 10, 10], [20, 20, 5, 5]], np.float64)
    np.testing.assert_allclose(iou(boxes[0], boxes), [1.0, 50 / 150, 0.0])
    assert nms(boxes, np.array([0.9, 0.8, 0.7]), 0.3).tolist() == [0, 2]
    assert nms(boxes, np.array([0.9, 0.8, 0.7]), 0.5).tolist() == [0, 1, 2]
