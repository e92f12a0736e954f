"""Photo bytes in, labelled faces and an annotated photo out. No HTTP here: handlers.py speaks HTTP.

decode -> find faces (MTCNN + classifier, or a one-pass reader such as yolo3) -> crop -> classify in one
batch -> annotate. Both strategies end in the same list of `Face`, so annotation and encoding are shared.
"""

import functools
import time
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from config import settings
from predict import annotate, image_io, models
from predict.faces import Face, SquareCrop, model_input, square_crop


@dataclass
class Prediction:
    model: str  # the model that actually ran, whatever was asked for
    classes: list[str]
    source: bytes  # the photo as uploaded
    image: Image.Image  # upright RGB
    faces: list[Face]
    annotated: Image.Image | None  # None when no face was found
    timings_ms: dict[str, float] = field(default_factory=dict)

    @functools.cached_property
    def annotated_jpeg(self) -> bytes | None:
        return image_io.jpeg_bytes(self.annotated) if self.annotated else None

    def ranking(self, face: Face) -> list[dict]:
        """All emotions with their probabilities, most probable first."""
        order = np.argsort(-face.probabilities, kind="stable")
        return [{"emotion": self.classes[i], "probability": float(face.probabilities[i])} for i in order]


class _Clock:
    def __init__(self):
        self.timings: dict[str, float] = {}
        self._start = self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.timings[name] = round((now - self._last) * 1000, 1)
        self._last = now

    def total(self) -> dict[str, float]:
        return {**self.timings, "total": round((time.perf_counter() - self._start) * 1000, 1)}


def run(source: bytes, requested_model, with_crops: bool = True) -> Prediction:
    """Raises image_io.ImageRejected for bytes that are not an acceptable photo."""
    clock = _Clock()
    image = image_io.decode(source)
    clock.lap("decode")
    card = models.resolve(requested_model)
    rgb = np.asarray(image)
    faces = find_faces(rgb, card)
    clock.lap("detect")
    crops = [square_crop(rgb, face, card.crop) for face in faces]
    if card.kind == "classifier":
        classify(faces, crops, models.classifier(card))
        clock.lap("classify")
    if with_crops:
        side = settings.face_crop_side
        for face, crop in zip(faces, crops):
            face.crop = crop.resized(side, side)
    annotated = annotate.draw(image, faces, card.classes, settings.annotated_max_side) if faces else None
    clock.lap("annotate")
    return Prediction(card.name, card.classes, source, image, faces, annotated, clock.total())


def find_faces(rgb: np.ndarray, card: models.ModelCard) -> list[Face]:
    """Faces with boxes; a one-pass reader's faces come with their probabilities already."""
    if card.kind == "classifier":
        return detect_faces(rgb)
    if card.kind == "detector-classifier":
        return [Face(box=tuple(int(v) for v in found["box"]), confidence=float(found["confidence"]),
                     probabilities=np.asarray(found["probabilities"], dtype=np.float64))
                for found in models.face_reader(card).read(rgb)]
    raise models.ModelUnavailable(f"model {card.name} has unknown kind {card.kind!r}")


def detect_faces(rgb: np.ndarray) -> list[Face]:
    """MTCNN on a copy no larger than settings.detect_max_side, boxes and eyes mapped back to `rgb` pixels."""
    height, width = rgb.shape[:2]
    small = image_io.fit_within(Image.fromarray(rgb), settings.detect_max_side)
    scale = small.width / width
    faces = []
    for found in models.mtcnn().detect_faces(np.asarray(small)):
        if found["confidence"] < settings.min_face_confidence:
            continue
        x, y, w, h = (value / scale for value in found["box"])
        left, top = max(0, round(x)), max(0, round(y))
        box = (left, top, min(width, round(x + w)) - left, min(height, round(y + h)) - top)
        if box[2] < 1 or box[3] < 1:
            continue
        points = found["keypoints"]
        eyes = tuple((points[eye][0] / scale, points[eye][1] / scale) for eye in ("left_eye", "right_eye"))
        faces.append(Face(box=box, confidence=float(found["confidence"]), eyes=eyes))
    return faces


def classify(faces: list[Face], crops: list[SquareCrop], classifier: models.Classifier) -> None:
    """Sets each face's probabilities, all faces of the photo in one batch."""
    if not faces:
        return
    width, height = classifier.input_size
    pixels = np.stack([model_input(crop, width, height, classifier.channels) for crop in crops])
    for face, probabilities in zip(faces, classifier.probabilities(pixels)):
        face.probabilities = probabilities
