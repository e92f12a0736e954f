"""Photo bytes in, labelled faces and an annotated photo out. No HTTP and no storage here.

decode -> find faces (the card's FaceFinder: detector + classifier, or a one-pass reader) -> annotate. Every
finder ends in the same list of `Face`, so annotation and encoding are shared.
"""

import functools
import time
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from moodlens.modelcard import ModelCard
from moodlens.predict import annotate, image_io
from moodlens.predict.faces import Face
from moodlens.predict.finders import finder_for
from moodlens.settings import Settings


@dataclass
class Prediction:
    card: ModelCard  # the model that actually ran, whatever was asked for
    image: Image.Image  # upright RGB
    faces: list[Face]
    annotated: Image.Image | None  # None when no face was found
    jpeg_quality: int
    faces_truncated: bool = False  # more faces were found than settings.max_faces; the largest were kept
    timings_ms: dict[str, float] = field(default_factory=dict)

    @property
    def model(self) -> str:
        return self.card.name

    @functools.cached_property
    def annotated_jpeg(self) -> bytes | None:
        return image_io.jpeg_bytes(self.annotated, self.jpeg_quality) if self.annotated else None

    def ranking(self, face: Face) -> list[dict]:
        """All emotions with their probabilities, most probable first."""
        assert face.probabilities is not None
        order = np.argsort(-face.probabilities, kind="stable")
        return [{"emotion": self.card.classes[i], "probability": float(face.probabilities[i])} for i in order]

    def face_image(self, face: Face, side: int) -> Image.Image:
        """The face as shown to the user: its square crop at side x side."""
        assert face.square is not None
        return face.square.resized(side, side)


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


def run(source: bytes, card: ModelCard, settings: Settings) -> Prediction:
    """Raises image_io.ImageRejected for bytes that are not an acceptable photo."""
    clock = _Clock()
    image = image_io.decode(source, settings.max_image_pixels)
    clock.lap("decode")
    finder = finder_for(card, settings)
    faces, truncated = largest(finder.detect(np.asarray(image)), settings.max_faces)
    faces = reading_order(faces)
    clock.lap("detect")
    if finder.classifies_separately:
        finder.classify(faces)
        clock.lap("classify")
    annotated = annotate.draw(image, faces, card.classes, settings.annotated_max_side) if faces else None
    clock.lap("annotate")
    return Prediction(card, image, faces, annotated, settings.jpeg_quality, truncated, clock.total())


def largest(faces: list[Face], limit: int) -> tuple[list[Face], bool]:
    """The `limit` largest faces in their original order, and whether any were dropped: a crowd would otherwise
    cost seconds and megabytes of answer for faces too small to read (the big cloud APIs cap at 100 too)."""
    if len(faces) <= limit:
        return faces, False
    keep = set(sorted(range(len(faces)), key=lambda i: -faces[i].box[2] * faces[i].box[3])[:limit])
    return [face for i, face in enumerate(faces) if i in keep], True


def reading_order(faces: list[Face]) -> list[Face]:
    """Left to right, then top to bottom, as people read a group photo: face N in the answer is box N on the photo.
    A face starts a new row when its centre lies below the current row's first (highest) face's centre by more than
    that face's height: people of different heights side by side stay one row, a row of heads behind another does
    not."""
    rows: list[list[Face]] = []
    for face in sorted(faces, key=lambda face: face.box[1] + face.box[3] / 2):
        first = rows[-1][0] if rows else None
        if first is None or face.box[1] + face.box[3] / 2 > first.box[1] + first.box[3] * 1.5:
            rows.append([face])
        else:
            rows[-1].append(face)
    return [face for row in rows for face in sorted(row, key=lambda face: face.box[0])]
