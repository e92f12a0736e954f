"""Face crops follow the model card's crop rule."""

import numpy as np
import pytest
from PIL import Image, ImageDraw

from moodlens.modelcard import CropRule
from moodlens.predict.faces import Face, eye_angle, model_input, square_crop

pytestmark = pytest.mark.unit

PLAIN = CropRule(align_eyes=False, box_scale=1.0, center_dy=0.0)


def test_plain_crop_is_the_box():
    rgb = np.zeros((100, 200, 3), np.uint8)
    rgb[20:60, 50:90] = 255
    crop = square_crop(rgb, Face(box=(50, 20, 40, 40), confidence=1.0), PLAIN).resized(40, 40)
    assert np.asarray(crop).min() == 255


def test_box_scale_and_center_dy_move_and_grow_the_square():
    rgb = np.zeros((200, 200, 3), np.uint8)
    rgb[110, :] = 255  # 0.25 * h = 10 px below the box centre (100, 100): the square's middle row
    rgb[:, 60] = 255  # box_scale 2 makes an 80 px square: its left edge is at 100 - 40
    face = Face(box=(80, 80, 40, 40), confidence=1.0)
    crop = np.asarray(
        square_crop(rgb, face, CropRule(align_eyes=False, box_scale=2.0, center_dy=0.25)).resized(80, 80).convert("L")
    )
    assert crop[:, 0].min() > 200 and crop[:, 1:].mean(axis=1).argmax() == 40


def test_outside_the_photo_edge_pixels_repeat():
    rgb = np.zeros((50, 50, 3), np.uint8)
    rgb[:, 0] = (255, 0, 0)  # left column red: padding to the left must be red too
    crop = np.asarray(square_crop(rgb, Face(box=(-20, 10, 30, 30), confidence=1.0), PLAIN).resized(30, 30))
    assert (crop[:, :15] == (255, 0, 0)).all()


def test_eye_angle_sign_follows_pillow():
    assert eye_angle(((10, 10), (30, 10))) == 0
    # Right eye lower in the image: turning counter-clockwise levels it.
    assert eye_angle(((10, 10), (30, 30))) == pytest.approx(45)


def test_alignment_levels_tilted_eyes():
    """Two dots on a 30 degree slope come out level in the aligned crop."""
    image = Image.new("RGB", (200, 200), (0, 0, 0))
    pen = ImageDraw.Draw(image)
    left, right = np.array([70.0, 80.0]), np.array([130.0, 80.0 + 60 * np.tan(np.radians(30))])
    for x, y in (left, right):
        pen.ellipse((x - 5, y - 5, x + 5, y + 5), fill=(255, 255, 255))
    face = Face(box=(50, 60, 100, 100), confidence=1.0, eyes=(tuple(left), tuple(right)))
    crop = np.asarray(
        square_crop(np.asarray(image), face, CropRule(align_eyes=True, box_scale=1.0)).resized(100, 100).convert("L")
    ).astype(float)
    rows = [np.average(np.arange(100), weights=crop[:, half].sum(axis=1)) for half in (slice(0, 50), slice(50, 100))]
    assert abs(rows[0] - rows[1]) < 1.5


@pytest.mark.parametrize("channels, shape", [(1, (48, 48, 1)), (3, (64, 64, 3))])
def test_model_input_shape_and_type(channels, shape):
    rgb = np.full((120, 120, 3), 128, np.uint8)
    crop = square_crop(rgb, Face(box=(10, 10, 100, 100), confidence=1.0), PLAIN)
    pixels = model_input(crop, shape[1], shape[0], channels)
    assert pixels.shape == shape and pixels.dtype == np.uint8
