"""A face's quality (moodlens.predict.quality): its size and the detail left at 48 px."""

import cv2
import numpy as np
import pytest

from moodlens.modelcard import CropRule
from moodlens.predict import quality
from moodlens.predict.faces import Face, square_crop
from training.data import load

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def val_faces():
    val = load("val")
    return val.images[:: len(val) // 300][:300]


def test_val_faces_as_they_are_are_not_low_detail_and_blurred_ones_are(val_faces):
    sharp = np.array([quality.detail(face) for face in val_faces])
    blurred = np.array([quality.detail(cv2.GaussianBlur(face, (0, 0), 1.5)) for face in val_faces])
    assert (sharp >= quality.LOW_DETAIL).mean() > 0.95
    assert (blurred < quality.LOW_DETAIL).mean() > 0.9


def test_detail_ignores_brightness_and_contrast(val_faces):
    face = val_faces[0].astype(np.float32)
    dimmer = (face * 0.5 + 60).round().astype(np.uint8)
    assert quality.detail(dimmer) == pytest.approx(quality.detail(val_faces[0]), rel=0.05)


def test_a_flat_patch_has_no_detail_and_no_error():
    assert quality.detail(np.full((48, 48), 128, np.uint8)) == 0.0


def face_on(rgb: np.ndarray, side: int) -> Face:
    face = Face(box=(0, 0, side, side), confidence=1.0)
    face.square = square_crop(rgb, face, CropRule())
    return face


def test_a_small_face_is_weak_for_its_size_and_a_large_sharp_one_is_not(val_faces):
    large = np.repeat(cv2.resize(val_faces[1], (96, 96))[:, :, None], 3, axis=2)
    assessed = quality.assess(face_on(large, 96)).answer()
    assert assessed["weak"] is False and assessed["reasons"] == [] and assessed["face_px"] == 96
    small = np.repeat(cv2.resize(val_faces[1], (20, 20), interpolation=cv2.INTER_AREA)[:, :, None], 3, axis=2)
    assessed = quality.assess(face_on(small, 20)).answer()
    assert assessed["weak"] is True and quality.SMALL_FACE in assessed["reasons"] and assessed["face_px"] == 20


def test_a_blurred_face_is_weak_for_its_detail(val_faces):
    blurred = cv2.GaussianBlur(cv2.resize(val_faces[2], (96, 96)), (0, 0), 5)
    assessed = quality.assess(face_on(np.repeat(blurred[:, :, None], 3, axis=2), 96)).answer()
    assert assessed["reasons"] == [quality.LOW_DETAIL_REASON] and assessed["detail"] < quality.LOW_DETAIL
