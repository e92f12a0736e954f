"""Face finders: how a model turns a photo into faces with emotions, one class per kind of model card.

A new kind of model is a new FaceFinder subclass registered under its card's `kind`; the pipeline does not change.
"""

from abc import ABC, abstractmethod
from typing import ClassVar

import numpy as np

from moodlens.modelcard import CLASSIFIER, ONE_PASS, ModelCard
from moodlens.predict import mtcnn
from moodlens.predict.catalog import ModelUnavailable, load_once
from moodlens.predict.classifier import Classifier
from moodlens.predict.faces import Face, model_input, square_crop
from moodlens.predict.yolo import YoloFaceReader
from moodlens.settings import Settings


class FaceFinder(ABC):
    """Finds the faces of an RGB photo (`detect`) and reads their emotions (`classify`); afterwards each face has
    its probabilities, in the card's class order, and its square crop cut by the card's crop rule."""

    kind: ClassVar[str]
    # Whether classify() does work of its own (it is timed apart) or detect() already read the emotions.
    classifies_separately: ClassVar[bool]

    def __init__(self, card: ModelCard, settings: Settings):
        self.card = card
        self.settings = settings

    @abstractmethod
    def detect(self, rgb: np.ndarray) -> list[Face]: ...

    @abstractmethod
    def classify(self, faces: list[Face]) -> None:
        """Sets the probabilities of faces that detect() left without."""


_FINDERS: dict[str, type[FaceFinder]] = {}


def register(finder: type[FaceFinder]) -> type[FaceFinder]:
    _FINDERS[finder.kind] = finder
    return finder


def finder_for(card: ModelCard, settings: Settings) -> FaceFinder:
    """The card's finder, its networks loaded once per process (and per settings, which tests vary)."""
    if card.kind not in _FINDERS:
        raise ModelUnavailable(f"model {card.name} has unknown kind {card.kind!r}")
    return load_once(f"finder:{card.name}:{hash(settings)}", lambda: _FINDERS[card.kind](card, settings))


@register
class DetectThenClassify(FaceFinder):
    """MTCNN finds the faces; the card's classifier reads all of a photo's crops in one batch."""

    kind = CLASSIFIER
    classifies_separately = True

    def __init__(self, card: ModelCard, settings: Settings):
        super().__init__(card, settings)
        self.classifier = Classifier(card, threads=settings.threads_per_call)

    def detect(self, rgb: np.ndarray) -> list[Face]:
        faces = mtcnn.detect_faces(rgb, self.settings, self.card.path.parent)
        for face in faces:
            face.square = square_crop(rgb, face, self.card.crop)
        return faces

    def classify(self, faces: list[Face]) -> None:
        if not faces:
            return
        height, width, channels = self.classifier.pixel_shape
        pixels = np.stack([model_input(face.square, width, height, channels) for face in faces if face.square])
        for face, probabilities in zip(faces, self.classifier.probabilities(pixels)):
            face.probabilities = probabilities


@register
class OnePassReader(FaceFinder):
    """One network finds the faces and reads their emotions (yolo3)."""

    kind = ONE_PASS
    classifies_separately = False

    def __init__(self, card: ModelCard, settings: Settings):
        super().__init__(card, settings)
        self.reader = YoloFaceReader(card, threads=settings.threads_per_call)

    def detect(self, rgb: np.ndarray) -> list[Face]:
        faces = [
            Face(
                box=(found["box"][0], found["box"][1], found["box"][2], found["box"][3]),
                confidence=float(found["confidence"]),
                probabilities=np.asarray(found["probabilities"], dtype=np.float64),
            )
            for found in self.reader.read(rgb)
        ]
        for face in faces:
            face.square = square_crop(rgb, face, self.card.crop)
        return faces

    def classify(self, faces: list[Face]) -> None:
        """Nothing left to do: the one pass read the emotions with the boxes."""
