"""Faces, and their crops cut the way a model card's crop rule says, so serving frames faces as training did."""

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image

from moodlens.modelcard import CropRule

Point = tuple[float, float]


@dataclass
class Face:
    """One face, the same whichever strategy found it (detector + classifier, or a one-pass reader)."""

    box: tuple[int, int, int, int]  # x, y, width, height in original-image pixels
    confidence: float
    eyes: tuple[Point, Point] | None = None  # (image-left eye, image-right eye), when the detector gives landmarks
    probabilities: np.ndarray | None = None  # in the model card's class order
    square: "SquareCrop | None" = None  # the face cut by the card's crop rule


@dataclass
class SquareCrop:
    """An upright square around a face: `square` is its (left, top, right, bottom) inside `patch`."""

    patch: Image.Image
    square: tuple[float, float, float, float]

    def resized(self, width: int, height: int) -> Image.Image:
        # Pillow's BILINEAR widens its filter when shrinking, so large faces are averaged, not aliased.
        return self.patch.resize((width, height), Image.Resampling.BILINEAR, box=self.square)


def eye_angle(eyes: tuple[Point, Point]) -> float:
    """Degrees to rotate counter-clockwise (Pillow's sense) so that the eyes are level."""
    (left_x, left_y), (right_x, right_y) = eyes
    return math.degrees(math.atan2(right_y - left_y, right_x - left_x))


def square_crop(rgb: np.ndarray, face: Face, rule: CropRule) -> SquareCrop:
    """The face cut as `rule` says (see CropRule); outside the photo, edge pixels repeat."""
    x, y, w, h = face.box
    side = max(1.0, rule.box_scale * max(w, h))
    centre_x = x + w / 2
    centre_y = y + h / 2 + rule.center_dy * h
    angle = eye_angle(face.eyes) if rule.align_eyes and face.eyes else 0.0
    # A rotated square needs its diagonal's worth of source around the centre.
    half = math.ceil(side / 2 * (math.sqrt(2) if angle else 1.0)) + 1
    left, top = math.floor(centre_x) - half, math.floor(centre_y) - half
    rows = np.clip(np.arange(top, top + 2 * half), 0, rgb.shape[0] - 1)
    cols = np.clip(np.arange(left, left + 2 * half), 0, rgb.shape[1] - 1)
    patch = Image.fromarray(rgb[np.ix_(rows, cols)])
    centre = (centre_x - left, centre_y - top)
    if angle:
        patch = patch.rotate(angle, resample=Image.Resampling.BILINEAR, center=centre)
    square = (centre[0] - side / 2, centre[1] - side / 2, centre[0] + side / 2, centre[1] + side / 2)
    return SquareCrop(patch, square)


def model_input(crop: SquareCrop, width: int, height: int, channels: int) -> np.ndarray:
    """(height, width, channels) uint8 pixels for a classifier; 1 channel means ITU-R 601 luma, as in FER2013."""
    image = crop.resized(width, height)
    if channels == 1:
        return np.asarray(image.convert("L"))[:, :, None]
    return np.asarray(image)
