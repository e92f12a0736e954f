"""FER2013 arrays (with FER+ votes) as the training and evaluation code needs them."""

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from moodlens.modelcard import EMOTIONS

REPO_ROOT = Path(__file__).resolve().parent.parent


def shared_data_dir() -> Path:
    """$MOODLENS_SHARED_DATA, else ../shared/data beside the repo: the FER2013 arrays and the photos."""
    configured = os.environ.get("MOODLENS_SHARED_DATA")
    return Path(configured) if configured else REPO_ROOT.parent / "shared" / "data"


def fer_dir() -> Path:
    """Where train.npz / val.npz live: $MOODLENS_FER_DIR (an unpacked copy on a GPU machine), else fer2013/ in the
    shared data."""
    configured = os.environ.get("MOODLENS_FER_DIR")
    return Path(configured) if configured else shared_data_dir() / "fer2013"


@dataclass(frozen=True)
class FerSplit:
    images: np.ndarray  # uint8 (N, 48, 48)
    labels: np.ndarray  # int64 (N,), FER class order
    ferplus_label7: np.ndarray  # int64 (N,), FER order, -1 where FER+ has no clear 7-class majority

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, index) -> "FerSplit":
        return FerSplit(self.images[index], self.labels[index], self.ferplus_label7[index])


def load_split(path) -> FerSplit:
    with np.load(path, allow_pickle=False) as arrays:
        classes = tuple(str(c) for c in arrays["classes"])
        if classes != EMOTIONS:
            raise ValueError(f"{path}: class order {classes} is not the FER order {EMOTIONS}")
        ferplus = arrays["ferplus_label7"] if "ferplus_label7" in arrays else np.full(len(arrays["labels"]), -1)
        return FerSplit(arrays["images"], arrays["labels"].astype(np.int64), ferplus.astype(np.int64))


def load(name: str) -> FerSplit:
    """`name` is 'train' or 'val' (from fer_dir()) or a path to an .npz of the same format."""
    path = Path(name) if name.endswith(".npz") else fer_dir() / f"{name}.npz"
    return load_split(path)


def smoothed_targets(labels: np.ndarray, smoothing: float) -> np.ndarray:
    """One-hot targets with label smoothing: FER2013 labels are noisy (FER+ annotators disagree with ~1 in 4)."""
    targets = np.full((len(labels), len(EMOTIONS)), smoothing / len(EMOTIONS), dtype=np.float32)
    targets[np.arange(len(labels)), labels] += 1.0 - smoothing
    return targets


def class_weights(labels: np.ndarray, power: float = 0.5, boost: dict[str, float] | None = None) -> np.ndarray:
    """(7,) training weight of each class: (count_median / count_class) ** power, times `boost` for the classes it
    names.

    A square-root re-weighting lifts the rare classes (disgust is 1.5 % of the data) without making the model
    say 'disgust' at every frown, which full inverse-frequency weighting does. `boost` is for a class that is common
    but hard (fear: as frequent as angry, and read right least often), where frequency says nothing.
    """
    counts = np.bincount(labels, minlength=len(EMOTIONS)).astype(np.float64)
    per_class = (np.median(counts[counts > 0]) / np.maximum(counts, 1)) ** power
    for name, factor in (boost or {}).items():
        per_class[EMOTIONS.index(name)] *= factor
    return per_class


def balancing_weights(labels: np.ndarray, power: float = 0.5, boost: dict[str, float] | None = None) -> np.ndarray:
    """Per-sample weights: each face's class_weights, mean 1."""
    weights = class_weights(labels, power, boost)[labels]
    return (weights / weights.mean()).astype(np.float32)
