"""yolo3 decoding, NMS and letterboxing (moodlens/predict/yolo.py, moodlens/ops.py) on constructed tensors, and
their agreement with the training targets (training/yolo3/model.py)."""

import numpy as np
import pytest
from PIL import Image

from moodlens.ops import iou, nms
from moodlens.predict import yolo

pytestmark = pytest.mark.unit

ANCHORS = np.array(
    [[16, 16], [24, 24], [32, 32], [48, 48], [64, 64], [96, 96], [128, 128], [160, 160], [224, 224]], np.float64
)
STRIDES = [8, 16, 32]
C = 12  # 5 + 7 classes


def _empty_heads(side=64):
    return [np.full((side // s, side // s, 3 * C), -10.0) for s in STRIDES]


def test_decode_places_a_box_from_cell_offset_and_anchor():
    heads = _empty_heads()
    cell = heads[1][1, 2].reshape(3, C)  # stride 16, row 1, column 2
    cell[2, 0] = 4.0  # objectness of anchor 5 (96 x 96)
    cell[2, 1:3] = 0.0  # centre in the middle of the cell
    cell[2, 3:5] = [np.log(0.5), 0.0]  # half the anchor's width, its height
    cell[2, 5 + 3] = 5.0  # happy
    heads[1][1, 2] = cell.reshape(-1)
    boxes, scores, logits = yolo.decode(heads, ANCHORS, STRIDES, 7, 0.5)
    assert boxes.shape == (1, 4)
    np.testing.assert_allclose(boxes[0], [2.5 * 16 - 24, 1.5 * 16 - 48, 48, 96], atol=1e-6)
    assert abs(scores[0] - 1 / (1 + np.exp(-4))) < 1e-6
    assert int(np.argmax(logits[0])) == 3


def test_decode_ignores_anchors_under_the_threshold():
    heads = _empty_heads()
    heads[0][3, 3, 0] = 0.0  # objectness 0.5
    assert len(yolo.decode(heads, ANCHORS, STRIDES, 7, 0.6)[0]) == 0
    assert len(yolo.decode(heads, ANCHORS, STRIDES, 7, 0.4)[0]) == 1


def test_nms_keeps_the_best_of_overlapping_boxes_and_all_separate_ones():
    boxes = np.array([[10, 10, 40, 40], [12, 12, 40, 40], [100, 100, 20, 20], [11, 9, 38, 42]], np.float64)
    scores = np.array([0.6, 0.9, 0.5, 0.7])
    assert nms(boxes, scores, 0.45).tolist() == [1, 2]
    assert sorted(nms(boxes, scores, 0.99).tolist()) == [0, 1, 2, 3]


def test_letterbox_keeps_aspect_and_pads_to_a_square():
    gray = np.full((240, 640), 200, np.uint8)
    out, scale = yolo.letterbox(gray, 320, 128.0)
    assert out.shape == (320, 320) and scale == 0.5
    assert out[:120].min() == 200 and out[120:].max() == 128.0


def test_training_targets_decode_back_to_the_scene_boxes():
    from training.yolo3 import model as net

    boxes = np.array([[20, 30, 18, 20], [60, 40, 60, 64], [10, 100, 30, 28]], np.float32)
    labels = np.array([2, 5, 6])
    targets = net.build_targets([boxes], [labels], 128, ANCHORS.astype(np.float32), label_smoothing=0.0)
    heads = []
    for t in targets:
        t = t[0]
        h = np.zeros(t.shape[:3] + (C,))
        h[..., 0] = np.where(t[..., 0] > 0, 10.0, -10.0)
        offsets = np.clip(t[..., 2:4], 1e-6, 1 - 1e-6)
        h[..., 1:3] = np.log(offsets / (1 - offsets))
        h[..., 3:5] = t[..., 4:6]
        h[..., 5:] = np.log(np.maximum(t[..., net.CLASSES_FROM :], 1e-9))
        heads.append(h.reshape(t.shape[0], t.shape[1], -1))
    found, scores, logits = yolo.decode(heads, ANCHORS, STRIDES, 7, 0.5)
    keep = nms(found, scores, 0.45)
    assert len(keep) == 3
    for box, label in zip(boxes, labels):
        best = int(np.argmax(iou(box, found[keep])))
        assert iou(box, found[keep][best : best + 1])[0] > 0.99
        assert int(np.argmax(logits[keep][best])) == label


def test_centre_cells_of_a_large_face_teach_its_emotion_without_objectness():
    from training.yolo3 import model as net

    box = np.array([[8, 8, 100, 100]], np.float32)  # centre (58, 58): 3 x 3 cells of stride 16 in its middle half
    targets = net.build_targets([box], [np.array([4])], 128, ANCHORS.astype(np.float32), label_smoothing=0.0)
    for t in targets:
        t = t[0]
        positive = t[..., 0] > 0
        extra = (t[..., net.CLASS_WEIGHT] > 0) & ~positive
        assert (t[positive, net.CLASS_WEIGHT] == 1.0).all()
        assert (t[extra][:, 2:7] == 0).all()  # no box target there
        if extra.any():
            assert (t[extra][:, net.CLASSES_FROM :].argmax(1) == 4).all()
            for a in np.unique(np.nonzero(extra)[2]):
                assert abs(t[..., a, net.CLASS_WEIGHT][extra[..., a]].sum() - 1.0) < 1e-5
    strides16 = targets[1][0]
    assert (strides16[..., net.CLASS_WEIGHT] > 0).sum() > (strides16[..., 0] > 0).sum()


def test_a_second_read_blends_into_the_face_it_overlaps_and_leaves_the_others():
    faces = [
        {"box": [10, 10, 40, 40], "probabilities": [0.5, 0.0, 0.0, 0.3, 0.0, 0.0, 0.2]},
        {"box": [200, 10, 40, 40], "probabilities": [0.1, 0.1, 0.1, 0.4, 0.1, 0.1, 0.1]},
    ]
    second = [
        {"box": [300, 300, 40, 40], "probabilities": [1 / 7] * 7},
        {"box": [12, 11, 40, 40], "probabilities": [0.1, 0.0, 0.0, 0.8, 0.0, 0.0, 0.1]},
    ]
    yolo.blend_emotions(faces, second, min_iou=0.5)
    blended = np.array(faces[0]["probabilities"])
    expected = np.sqrt([0.5 * 0.1, 0, 0, 0.3 * 0.8, 0, 0, 0.2 * 0.1])
    np.testing.assert_allclose(blended, expected / expected.sum(), atol=1e-6)
    assert int(np.argmax(blended)) == 3
    assert faces[1]["probabilities"] == [0.1, 0.1, 0.1, 0.4, 0.1, 0.1, 0.1]


def test_the_geometric_mean_of_three_reads_is_the_cube_root_of_their_product_renormalised():
    reads = [[0.5, 0.25, 0.25], [0.125, 0.5, 0.375], [0.5, 0.25, 0.25]]
    expected = np.cbrt([0.5 * 0.125 * 0.5, 0.25 * 0.5 * 0.25, 0.25 * 0.375 * 0.25])
    np.testing.assert_allclose(yolo.geometric_mean(reads), expected / expected.sum(), atol=1e-9)


@pytest.mark.parametrize(
    "box, expected",
    [
        ([100, 100, 20, 30], (65, 70, 155, 160)),  # 3 x the longer side (30), around the centre (110, 115)
        ([5, 180, 30, 20], (0, 145, 65, 200)),  # cut at the photo's left and bottom edges
    ],
)
def test_the_reread_window_is_a_square_around_the_face_cut_to_the_photo(box, expected):
    assert yolo.reread_window(box, 3.0, height=200, width=300) == expected


def test_large_faces_join_only_where_no_sure_or_more_confident_face_covers_them():
    first = [
        {"box": [10, 10, 40, 40], "confidence": 0.9, "probabilities": [1 / 7] * 7},  # sure
        {"box": [300, 300, 60, 60], "confidence": 0.2, "probabilities": [1 / 7] * 7},  # unsure
    ]
    large = [
        {"box": [12, 8, 44, 44], "confidence": 0.95, "probabilities": [1 / 7] * 7},  # the sure face again
        {"box": [290, 290, 90, 90], "confidence": 0.6, "probabilities": [1 / 7] * 7},  # over the unsure one
        {"box": [500, 10, 200, 260], "confidence": 0.8, "probabilities": [1 / 7] * 7},  # a face only it finds
        {"box": [505, 15, 190, 250], "confidence": 0.5, "probabilities": [1 / 7] * 7},  # that face, less sure
    ]
    merged = yolo.add_large_faces(first, large, sure_confidence=0.35)
    assert sorted(face["box"] for face in merged) == [[10, 10, 40, 40], [290, 290, 90, 90], [500, 10, 200, 260]]
    assert first[1]["box"] == [300, 300, 60, 60]  # the first read's list is left as it was


def test_gray_is_pils_luma_to_within_rounding(photos_dir, manifest):
    for entry in manifest:
        rgb = np.asarray(Image.open(photos_dir / entry["file"]).convert("RGB"))
        difference = np.abs(yolo.to_gray(rgb).astype(int) - np.asarray(Image.fromarray(rgb).convert("L")))
        assert difference.max() <= 1 and (difference > 0).mean() < 1e-3, entry["file"]
