"""The shipped yolo3 model (functions/models/yolo3.*) through the serving reader."""

import json
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from moodlens.modelcard import SecondRead, read_card
from moodlens.ops import iou
from moodlens.predict import mtcnn, yolo
from moodlens.settings import Settings

pytestmark = pytest.mark.unit

CARD = Settings().models_dir / "yolo3.json"


@pytest.fixture(scope="module")
def reader():
    return yolo.YoloFaceReader(read_card(CARD))


def test_card_describes_a_detector_classifier_and_its_weights_load(reader):
    card = json.loads(CARD.read_text())
    assert card["kind"] == "detector-classifier"
    assert card["classes"] == ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
    assert (card["input"]["side"], card["strides"], card["anchors_per_scale"]) == (416, [8, 16, 32], 3)
    heads = reader.heads(np.zeros((1, 416, 416), np.float32))
    # Per anchor: objectness, 4 box values and 7 emotion logits; 3 anchors per stride.
    assert [h.shape for h in heads] == [(1, 52, 52, 36), (1, 26, 26, 36), (1, 13, 13, 36)]


def test_finds_the_faces_of_the_group_photos(reader, photos_dir, manifest):
    """Over the group photos with hand-labelled boxes (25 faces): at least half matched at IoU >= 0.5, every
    answer well formed. Pooled, because one photo of 3 faces moves by a third with a single face."""
    matched = total = 0
    for entry in (e for e in manifest if e.get("boxes") and e["num_faces"] > 1):
        rgb = np.asarray(Image.open(photos_dir / entry["file"]).convert("RGB"))
        faces = reader.read(rgb)
        found = np.array([f["box"] for f in faces], np.float64).reshape(-1, 4)
        truth = np.array(entry["boxes"], np.float64)
        matched += sum(1 for box in truth if len(found) and iou(box, found).max() >= 0.5)
        total += len(truth)
        for face in faces:
            x, y, w, h = face["box"]
            assert x >= 0 and y >= 0 and x + w <= rgb.shape[1] and y + h <= rgb.shape[0]
            assert len(face["probabilities"]) == 7 and abs(sum(face["probabilities"]) - 1) < 1e-6
            assert face["confidence"] >= reader.spec.confidence
    assert total >= 20 and matched >= total / 2


def test_a_second_emotion_read_keeps_the_boxes_and_changes_only_probabilities(photos_dir, manifest):
    shipped = read_card(CARD)
    assert shipped.one_pass_input is not None
    one_read = yolo.YoloFaceReader(replace(shipped, one_pass_input=replace(shipped.one_pass_input, second_read=None)))
    two_reads = yolo.YoloFaceReader(
        replace(shipped, one_pass_input=replace(shipped.one_pass_input, second_read=SecondRead(512, 0.05, 0.5)))
    )
    entry = next(e for e in manifest if e.get("boxes") and e["num_faces"] > 2)
    rgb = np.asarray(Image.open(photos_dir / entry["file"]).convert("RGB"))
    first, blended = one_read.read(rgb), two_reads.read(rgb)
    assert len(first) > 2
    assert [f["box"] for f in first] == [f["box"] for f in blended]
    assert [f["confidence"] for f in first] == [f["confidence"] for f in blended]
    assert all(abs(sum(f["probabilities"]) - 1) < 1e-6 for f in blended)
    assert any(not np.allclose(a["probabilities"], b["probabilities"]) for a, b in zip(first, blended))


def test_the_face_reread_blends_a_read_into_most_faces_and_keeps_the_boxes(photos_dir, manifest):
    """Each face of a group photo is read again from the photo cut around it (the card's face_reread): the reread
    finds most faces in their cuts in at least one of its views, so their probabilities change; a face it does not
    find keeps its own. No box or confidence moves."""
    shipped = read_card(CARD)
    assert shipped.one_pass_input is not None and shipped.one_pass_input.face_reread is not None
    without = yolo.YoloFaceReader(replace(shipped, one_pass_input=replace(shipped.one_pass_input, face_reread=None)))
    entry = next(e for e in manifest if e.get("boxes") and e["num_faces"] > 5)
    rgb = np.asarray(Image.open(photos_dir / entry["file"]).convert("RGB"))
    before, after = without.read(rgb), yolo.YoloFaceReader(shipped).read(rgb)
    assert len(before) > 5
    assert [(f["box"], f["confidence"]) for f in before] == [(f["box"], f["confidence"]) for f in after]
    assert all(abs(sum(f["probabilities"]) - 1) < 1e-6 for f in after)
    changed = sum(not np.allclose(a["probabilities"], b["probabilities"]) for a, b in zip(before, after))
    assert changed >= 0.8 * len(before)


def portrait(rgb: np.ndarray, box, margin: float = 0.25) -> tuple[np.ndarray, np.ndarray]:
    """The photo cut to its face and `margin` of the face's longer side around it (the face fills about two thirds of
    the frame, as in a selfie), and the face's box in the cut."""
    x, y, w, h = box
    pad = margin * max(w, h)
    x0, y0 = int(max(0, x - pad)), int(max(0, y - pad))
    x1, y1 = int(min(rgb.shape[1], x + w + pad)), int(min(rgb.shape[0], y + h + pad))
    return rgb[y0:y1, x0:x1], np.array([x - x0, y - y0, w, h], np.float64)


def test_the_large_face_read_finds_portraits_too_large_for_the_first_read(reader, photos_dir):
    """Portraits whose face fills two thirds of the frame (about 280 px at side 416, over twice the largest anchor)
    are found with the card's large-face read where MTCNN found the face (IoU >= 0.5); the first read alone misses
    some of them."""
    shipped = read_card(CARD)
    assert shipped.one_pass_input is not None and shipped.one_pass_input.large_face_read is not None
    first_read_only = yolo.YoloFaceReader(
        replace(shipped, one_pass_input=replace(shipped.one_pass_input, large_face_read=None))
    )
    missed = 0
    for photo in ("deepface_img1.jpg", "deepface_img17.jpg", "deepface_img45.jpg"):
        rgb = np.asarray(Image.open(photos_dir / photo).convert("RGB"))
        found_by_mtcnn = mtcnn.detect_faces(rgb, Settings())
        assert len(found_by_mtcnn) == 1
        cut, truth = portrait(rgb, found_by_mtcnn[0].box)
        missed += first_read_only.read(cut) == []
        faces = reader.read(cut)
        assert len(faces) == 1 and iou(truth, np.array([faces[0]["box"]], np.float64))[0] >= 0.5
    assert missed >= 1


@pytest.mark.parametrize(
    "make",
    [
        lambda: np.full((480, 640, 3), 128, np.uint8),
        lambda: np.repeat(np.linspace(0, 255, 640, dtype=np.uint8)[None, :, None], 480, 0).repeat(3, 2),
    ],
)
def test_no_face_in_a_plain_photo(reader, make):
    assert reader.read(make()) == []


def _matched_and_false(faces: list[dict], truth: np.ndarray) -> tuple[int, int]:
    found = np.array([f["box"] for f in faces], np.float64).reshape(-1, 4)
    matched = sum(1 for box in truth if len(found) and iou(box, found).max() >= 0.5)
    return matched, len(found) - matched


def test_the_face_check_puts_the_boxes_on_the_labelled_faces_and_drops_the_false_ones(photos_dir, manifest):
    """On the photos with hand-labelled boxes (dlib's, not MTCNN's), the card's face check (MTCNN's ONet on each
    face found) turns boxes that took in hair and forehead into boxes that match the labels, and drops the faces
    that are none."""
    shipped = read_card(CARD)
    assert shipped.one_pass_input is not None and shipped.one_pass_input.face_check is not None
    checked = yolo.YoloFaceReader(shipped)
    unchecked = yolo.YoloFaceReader(replace(shipped, one_pass_input=replace(shipped.one_pass_input, face_check=None)))
    totals = np.zeros((2, 2), int)
    faces = 0
    for entry in (e for e in manifest if e.get("boxes")):
        rgb = np.asarray(Image.open(photos_dir / entry["file"]).convert("RGB"))
        truth = np.array(entry["boxes"], np.float64)
        totals[0] += _matched_and_false(unchecked.read(rgb), truth)
        totals[1] += _matched_and_false(checked.read(rgb), truth)
        faces += len(truth)
    (matched_before, false_before), (matched, false) = totals
    assert faces >= 20 and matched >= 0.9 * faces and matched > matched_before
    assert false <= 1 < false_before


def test_onet_moves_a_box_that_sits_too_high_back_onto_the_face_and_scores_a_blank_box_low(photos_dir):
    rgb = np.asarray(Image.open(photos_dir / "deepface_img13.jpg").convert("RGB"))
    (face,) = mtcnn.detect_faces(rgb, Settings())
    x, y, w, h = face.box
    high = np.array([[x, y - 0.3 * h, x + w, y + 0.7 * h]])
    blank = np.array([[0, 0, 40, 40]], np.float64)
    checker = mtcnn.detector(Settings().models_dir)
    (moved,), (score,) = checker.check(rgb, high, passes=2)
    truth = np.array(face.box, np.float64)
    assert iou(truth, _xywh(moved[None]))[0] > iou(truth, _xywh(high))[0] + 0.2
    assert score > 0.9
    blank_rgb = np.full_like(rgb, 128)
    assert checker.check(blank_rgb, blank, passes=2)[1][0] < 0.5


def _xywh(boxes: np.ndarray) -> np.ndarray:
    return np.concatenate([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]], axis=1)
