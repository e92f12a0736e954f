"""The annotated photo's labels: numbered like the answer's faces, never overlapping, never cut by the photo's edge."""

import json
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from moodlens.predict import annotate

pytestmark = pytest.mark.unit

GROUP_PHOTO = "dlib_bald_guys.jpg"  # 24 faces, close together
# The faces MTCNN finds there (the stored answers of test_stored_answers.py), on the 1986 x 1545 photo.
GROUP_FACES = json.loads((Path(__file__).parent / "data" / "answers-06cfc40.json").read_text())[GROUP_PHOTO]
GROUP_SIZE = (1986, 1545)


def _measure(font):
    pen = ImageDraw.Draw(Image.new("RGB", (1, 1)))

    def measure(text):
        left, top, right, bottom = pen.textbbox((0, 0), text, font=font)
        return right - left + 4, bottom - top + 4

    return measure


def _check(placed, boxes, width, height):
    assert [text.split()[0] for text, _ in placed] == [str(n) for n in range(1, len(boxes) + 1)]
    rects = [rect for _, rect in placed]
    for rect in rects:
        assert 0 <= rect[0] <= rect[2] <= width and 0 <= rect[1] <= rect[3] <= height, rect
    for i, a in enumerate(rects):
        for b in rects[i + 1 :]:
            assert not annotate._overlaps(a, b), (a, b)


@pytest.mark.parametrize("font_size", [12, 40, 80])
def test_group_photo_labels_neither_overlap_nor_leave_the_photo(font_size):
    boxes = [(x, y, x + w, y + h) for x, y, w, h in (face["box"] for face in GROUP_FACES["inception-resnet"])]
    assert len(boxes) >= 20
    texts = [(f"{n} surprise 0.99", str(n)) for n in range(1, len(boxes) + 1)]
    measure = _measure(ImageFont.load_default(size=font_size))
    placed = annotate.layout(boxes, texts, measure, *GROUP_SIZE)
    _check(placed, boxes, *GROUP_SIZE)
    # The old placement (above each box, at its left edge) collided here; at the smallest size, full labels fit.
    if font_size == 12:
        assert all(" " in text for text, _ in placed)


def test_faces_at_the_edges_keep_their_labels_inside():
    width, height = 200, 100
    boxes = [(0, 0, 40, 40), (170, 0, 200, 30), (160, 70, 200, 100), (0, 60, 30, 100)]
    texts = [(f"{n} neutral 0.50", str(n)) for n in range(1, 5)]
    placed = annotate.layout(boxes, texts, _measure(ImageFont.load_default(size=14)), width, height)
    _check(placed, boxes, width, height)


def _luminance(hex_colour):
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


@pytest.mark.parametrize("emotion", sorted(annotate.COLOURS))
def test_black_label_text_meets_wcag_aa_on_every_emotion_colour(emotion):
    # The annotated JPEG, the camera's labels and the pages' face numbers all write black on these colours; white
    # would fall to 2.0-3.3:1 on happy, surprise, disgust and neutral.
    assert (_luminance(annotate.COLOURS[emotion]) + 0.05) / 0.05 >= 4.5
