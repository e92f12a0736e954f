"""How far a face's read can be trusted from the face alone: its size in the photo and the detail left in it at the
classifiers' 48 px. Neither says what the face shows; both say when a read is weak whatever the face shows.

The limits were measured by reading FER2013 val faces shrunk and blurred (`python -m training.quality`, 900 faces,
inception-resnet): 68.6 % read right as they are, 55.7 % shrunk to 24 px and enlarged again, 46.3 % at 20 px; faces
whose detail is under 0.25 read right 49 % of the time or less (blurred with sigma 1 px: 57.7 %, median detail 0.25).
Real photos' faces measured 0.26 to 0.94 (the shared photos, both finders), so sharp faces are not flagged.
"""

from dataclasses import dataclass

import cv2
import numpy as np

from moodlens.predict.faces import Face, model_input

DETAIL_SIDE = 48  # the classifiers' input: detail is measured on what they read
SMALL_FACE_PX = 24  # shorter box side below which reads lose more than 10 points
LOW_DETAIL = 0.25  # detail below which reads lose about 20 points or more
SMALL_FACE, LOW_DETAIL_REASON = "small_face", "low_detail"


def detail(gray: np.ndarray) -> float:
    """Edge energy over contrast: the standard deviation of the Laplacian over that of the pixels. Blur, motion and
    enlarging a small face lower it; brightness and contrast leave it as it is."""
    pixels = gray.astype(np.float32)
    return float(cv2.Laplacian(pixels, cv2.CV_32F).std() / (pixels.std() + 1e-3))


@dataclass(frozen=True)
class FaceQuality:
    face_px: int  # the face box's shorter side, in photo pixels
    detail: float

    @property
    def reasons(self) -> list[str]:
        return [SMALL_FACE] * (self.face_px < SMALL_FACE_PX) + [LOW_DETAIL_REASON] * (self.detail < LOW_DETAIL)

    def answer(self) -> dict:
        reasons = self.reasons
        return {"face_px": self.face_px, "detail": round(self.detail, 3), "weak": bool(reasons), "reasons": reasons}


def assess(face: Face) -> FaceQuality:
    assert face.square is not None
    gray = model_input(face.square, DETAIL_SIDE, DETAIL_SIDE, channels=1)[:, :, 0]
    return FaceQuality(int(min(face.box[2], face.box[3])), detail(gray))
