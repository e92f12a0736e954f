"""The model card: the one contract between training, which writes it, and serving, which reads it.

A card is the JSON file beside each weight file (`functions/models/<name>.json`). It says what the network is,
what it expects (input size, normalisation, how a face is cropped) and how good it is (`metrics.accuracy`, the
headline figure, measured on the data `metrics.data` names) and which file serving runs (`runtime.file`, the
network converted to LiteRT from the Keras `file`). Serving hard-codes none of this. Training builds
the card as a dict and saves it through `write_card`, which refuses a card that serving could not read.
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from moodlens.ops import softmax

# The FER2013 class order: every card, data file and network output uses it.
EMOTIONS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")

# Kinds of model. CLASSIFIER: a face detector finds faces, the network reads each crop.
# ONE_PASS: the network finds the faces and reads them in one pass over the photo.
CLASSIFIER = "classifier"
ONE_PASS = "detector-classifier"
KINDS = (CLASSIFIER, ONE_PASS)
# Precisions of a runtime file (runtime.precision).
# INT8: weights and activations; INT8_WEIGHTS: weights only, activations float32 (quantized on the fly where a kernel
# wants them so: "dynamic range").
FLOAT32, INT8, INT8_WEIGHTS = "float32", "int8", "int8-weights"


class CardError(ValueError):
    """A card that serving cannot use."""


@dataclass(frozen=True)
class Normalization:
    """uint8 pixels -> network input: (pixels * scale - mean) / std."""

    scale: float
    mean: float
    std: float

    def apply(self, pixels: np.ndarray) -> np.ndarray:
        return (pixels.astype(np.float32) * np.float32(self.scale) - np.float32(self.mean)) / np.float32(self.std)


@dataclass(frozen=True)
class ClassifierInput:
    width: int
    height: int
    channels: int  # 1: ITU-R 601 luma, as in FER2013
    normalization: Normalization
    test_time_flip: bool  # average each face's probabilities with its mirror image's
    # Faces flatter than this (standard deviation of their 0..255 pixels) are stretched to it about their mean first:
    # real photos' faces are flatter than FER2013's (median 43 against 54), and a flat face reads worse.
    contrast_floor: float | None = None

    def network_input(self, pixels: np.ndarray) -> np.ndarray:
        """uint8 (N, H, W, C) crops -> what the network reads: contrast_floor applied, then the normalisation."""
        if self.contrast_floor:
            faces = pixels.astype(np.float32)
            mean = faces.mean(axis=(1, 2, 3), keepdims=True)
            spread = faces.std(axis=(1, 2, 3), keepdims=True)
            stretch = np.maximum(1.0, self.contrast_floor / np.maximum(spread, 1e-3))
            pixels = np.clip((faces - mean) * stretch + mean, 0, 255)
        return self.normalization.apply(pixels)


@dataclass(frozen=True)
class CropRule:
    """How a detected face becomes a classifier's input, so serving frames faces as training did: rotate so the
    eyes are level (align_eyes), then a square of side box_scale * max(w, h) centred center_dy * h below the
    box's centre."""

    align_eyes: bool = False
    box_scale: float = 1.0
    center_dy: float = 0.0


# One-pass readers without a crop rule show the user their detector's box.
PLAIN_CROP = CropRule()


@dataclass(frozen=True)
class SecondRead:
    """A second, enlarged read of the photo whose emotions blend into the faces the first read found."""

    side: int
    min_confidence: float
    min_iou: float


@dataclass(frozen=True)
class LargeFaceRead:
    """A read of the photo shrunk to `side`, whose faces of at least min_face_fraction of the photo's longer side
    join the first read's: a face larger than the network's largest anchors is found once it is shrunk."""

    side: int
    min_face_fraction: float


@dataclass(frozen=True)
class FaceReread:
    """Each face found is read again from cuts of the photo around it, one per view: a square of `context` times the
    face's longer side, scaled so that the face is face_sides[i] pixels (near the scale of FER2013's faces, which the
    network reads best; several scales read better together than any one alone) and letterboxed to sides[i]. The
    emotions of the faces the views find there (IoU >= min_iou) and the face's own blend by geometric mean, each
    weighing the same."""

    face_sides: tuple[int, ...]
    context: float
    sides: tuple[int, ...]
    min_confidence: float
    min_iou: float

    @property
    def views(self) -> tuple[tuple[int, int], ...]:
        """(face side, letterbox side) of each view."""
        return tuple(zip(self.face_sides, self.sides))


@dataclass(frozen=True)
class FaceCheck:
    """MTCNN's last stage (ONet, in the card's mtcnn/ folder) run on each face found: it keeps the faces ONet scores
    at least min_score and moves their boxes to where ONet puts the face. The one-pass network's boxes take in the
    forehead and hair of real heads (they are box_shrink times MTCNN's, and sit higher): the first pass starts from
    the found box squared and shrunk by box_shrink, each later pass from the last pass's box."""

    box_shrink: float
    passes: int
    min_score: float


@dataclass(frozen=True)
class OnePassInput:
    side: int  # the photo is letterboxed to side x side
    pad_value: float
    anchors: np.ndarray  # (strides * anchors_per_scale, 2): width, height in network pixels
    strides: tuple[int, ...]
    confidence: float  # objectness threshold
    nms_iou: float
    min_side: float  # faces narrower or shorter than this (photo pixels) are dropped
    second_read: SecondRead | None
    large_face_read: LargeFaceRead | None = None
    face_check: FaceCheck | None = None
    face_reread: FaceReread | None = None

    @property
    def read_sides(self) -> tuple[int, ...]:
        """The letterbox side of each read of a photo, the first read's first."""
        return (self.side, *(read.side for read in (self.second_read, self.large_face_read) if read))

    @property
    def network_sides(self) -> tuple[int, ...]:
        """Every input side the network runs at: the photo's reads and the faces' rereads."""
        return self.read_sides + (self.face_reread.sides if self.face_reread else ())


@dataclass(frozen=True, eq=False)
class ModelCard:
    path: Path  # where the card was read from; the weights sit beside it
    raw: Mapping[str, Any]  # the whole file, for what only people and training read (metrics, training record)
    name: str
    kind: str
    classes: tuple[str, ...]
    description: str
    temperature: float  # logits are divided by it before the softmax (fitted on val)
    crop: CropRule
    accuracy: float | None  # the headline figure, metrics.accuracy
    classifier_input: ClassifierInput | None  # set for CLASSIFIER cards
    one_pass_input: OnePassInput | None  # set for ONE_PASS cards
    # A classifier's (classes,) offsets added to its logits before the temperature (the card's class_prior_correction):
    # they undo the class weights it was trained with, so that its answers follow the classes' own frequencies.
    logit_offsets: np.ndarray | None = None

    @property
    def weights(self) -> Path:
        """The Keras file training wrote: the reference, and what conversion starts from."""
        return self.path.parent / self.raw["file"]

    @property
    def converted(self) -> bool:
        """Whether the card names its runtime file: a card trained where TensorFlow is missing is not, yet."""
        return "runtime" in self.raw

    @property
    def runtime_weights(self) -> Path:
        """The file serving runs (LiteRT), converted from `weights` by `python -m training.convert`."""
        if not self.converted:
            raise CardError(f"{self.path}: no runtime file; run python -m training.convert {self.name}")
        return self.path.parent / self.raw["runtime"]["file"]

    @property
    def runtime_precision(self) -> str:
        """'float32', or 'int8' / 'int8-weights' where conversion quantized the network (its answers then differ a
        little from the Keras file's; the card's metrics are measured on the runtime file)."""
        return self.raw.get("runtime", {}).get("precision", FLOAT32)


def parse_card(raw: Mapping[str, Any], path: Path) -> ModelCard:
    """The typed card; CardError says what is missing or wrong."""
    try:
        return _parse(raw, path)
    except (KeyError, TypeError, ValueError) as error:
        if isinstance(error, CardError):
            raise
        raise CardError(f"{path}: {type(error).__name__} {error}") from None


def _parse(raw: Mapping[str, Any], path: Path) -> ModelCard:
    if sorted(raw["classes"]) != sorted(EMOTIONS):
        raise CardError(f"{path}: classes {raw['classes']} are not the 7 emotions")
    kind = raw["kind"]
    if kind not in KINDS:
        raise CardError(f"{path}: unknown kind {kind!r}")
    for file in (raw["file"], raw.get("runtime", {}).get("file", "")):
        if not isinstance(file, str) or "/" in file:
            raise CardError(f"{path}: 'file' and 'runtime.file' must name files beside the card")
    temperature = float(raw.get("temperature", 1.0))
    if temperature <= 0:
        raise CardError(f"{path}: temperature must be positive")
    accuracy = raw.get("metrics", {}).get("accuracy")
    if accuracy is not None and not 0 <= accuracy <= 1:
        raise CardError(f"{path}: metrics.accuracy must be a fraction")
    crop = raw.get("crop")
    correction = raw.get("class_prior_correction")
    if correction is not None and kind != CLASSIFIER:
        raise CardError(f"{path}: class_prior_correction is for classifiers")
    return ModelCard(
        path=path,
        raw=raw,
        name=str(raw["name"]),
        kind=kind,
        classes=tuple(raw["classes"]),
        description=str(raw.get("description", "")),
        temperature=temperature,
        crop=PLAIN_CROP
        if crop is None
        else CropRule(bool(crop["align_eyes"]), float(crop["box_scale"]), float(crop["center_dy"])),
        accuracy=None if accuracy is None else float(accuracy),
        classifier_input=_classifier_input(raw) if kind == CLASSIFIER else None,
        one_pass_input=_one_pass_input(raw) if kind == ONE_PASS else None,
        logit_offsets=None if correction is None else _logit_offsets(correction["logit_offsets"], raw["classes"], path),
    )


def _logit_offsets(offsets: Mapping[str, Any], classes: list[str], path: Path) -> np.ndarray:
    if sorted(offsets) != sorted(classes):
        raise CardError(f"{path}: class_prior_correction.logit_offsets names {sorted(offsets)}, not the card's classes")
    values = np.array([float(offsets[name]) for name in classes], np.float64)
    if not np.isfinite(values).all():
        raise CardError(f"{path}: class_prior_correction.logit_offsets must be finite numbers")
    return values


def _classifier_input(raw: Mapping[str, Any]) -> ClassifierInput:
    spec, norm = raw["input"], raw["input"]["normalization"]
    if raw.get("output", "logits") != "logits":
        raise CardError(f"classifier output {raw['output']!r}: serving reads logits")
    return ClassifierInput(
        int(spec["width"]),
        int(spec["height"]),
        int(spec["channels"]),
        Normalization(float(norm["scale"]), float(norm["mean"]), float(norm["std"])),
        bool(raw.get("test_time_flip", False)),
        float(spec["contrast_floor"]) if spec.get("contrast_floor") is not None else None,
    )


def _one_pass_input(raw: Mapping[str, Any]) -> OnePassInput:
    thresholds, second, large = raw["thresholds"], raw.get("second_emotion_read"), raw.get("large_face_read")
    check, reread = raw.get("face_check"), raw.get("face_reread")
    anchors = np.asarray(raw["anchors"], np.float64)
    strides = tuple(int(s) for s in raw["strides"])
    if anchors.ndim != 2 or anchors.shape[1] != 2 or len(anchors) % len(strides):
        raise CardError("anchors must be (width, height) pairs, the same number per stride")
    return OnePassInput(
        side=int(raw["input"]["side"]),
        pad_value=float(raw["input"]["pad_value"]),
        anchors=anchors,
        strides=strides,
        confidence=float(thresholds["confidence"]),
        nms_iou=float(thresholds["nms_iou"]),
        min_side=float(thresholds.get("min_side", 1)),
        second_read=SecondRead(int(second["side"]), float(second["min_confidence"]), float(second["min_iou"]))
        if second
        else None,
        large_face_read=LargeFaceRead(int(large["side"]), float(large["min_face_fraction"])) if large else None,
        face_check=FaceCheck(float(check["box_shrink"]), int(check["passes"]), float(check["min_score"]))
        if check
        else None,
        face_reread=_face_reread(reread, strides) if reread else None,
    )


def _face_reread(raw: Mapping[str, Any], strides: tuple[int, ...]) -> FaceReread:
    reread = FaceReread(
        tuple(int(side) for side in raw["face_sides"]),
        float(raw["context"]),
        tuple(int(side) for side in raw["sides"]),
        float(raw["min_confidence"]),
        float(raw["min_iou"]),
    )
    if not reread.face_sides or len(reread.face_sides) != len(reread.sides):
        raise CardError("face_reread: one letterbox side for each face side")
    for face_side, side in reread.views:
        if side % max(strides) or side < face_side * reread.context:
            raise CardError(f"face_reread side {side}: must hold the cut and be a multiple of the largest stride")
    return reread


def read_card(path: Path) -> ModelCard:
    try:
        raw = json.loads(Path(path).read_text())
    except ValueError as error:
        raise CardError(f"{path}: not JSON ({error})") from None
    if not isinstance(raw, dict):
        raise CardError(f"{path}: not a JSON object")
    return parse_card(raw, Path(path))


def write_card(path: Path, raw: Mapping[str, Any]) -> ModelCard:
    """Checks the card as serving will read it, then writes it."""
    card = parse_card(raw, Path(path))
    Path(path).write_text(json.dumps(raw, indent=1) + "\n")
    return card


def calibrated_probabilities(
    logits: np.ndarray, temperature: float, mirrored_logits: np.ndarray | None = None
) -> np.ndarray:
    """What serving reports for faces with these (N, classes) logits: the softmax at the card's temperature,
    averaged with that of their mirror images when the card asks for test-time flip."""
    probabilities = softmax(logits, temperature)
    if mirrored_logits is not None:
        probabilities = (probabilities + softmax(mirrored_logits, temperature)) / 2
    return probabilities / probabilities.sum(axis=-1, keepdims=True)
