"""A teacher's probabilities over the training faces, for knowledge distillation (`training.train --teacher NAME`).

The teacher reads every training face once, exactly as serving would (its card's normalisation, test-time flip and
temperature, through serving's Classifier; a teacher trained on a GPU machine, not yet converted, through its Keras
file), and the student learns from a blend of the FER2013 label and those
probabilities. The teacher's soft answers carry what a hard label cannot (this frown is half angry, half sad), which
is what lifts a small network towards a larger one. Computed once per (teacher file, faces) and cached.
"""

import hashlib
import json
from pathlib import Path

import numpy as np

from moodlens.modelcard import ModelCard
from training.data import REPO_ROOT, smoothed_targets
from training.ensemble import READING
from training.evaluate import load_card, served_classifier

CACHE_DIR = REPO_ROOT / "checkpoints" / "teachers"
THREADS = 2


def cache_path(card: ModelCard, images: np.ndarray) -> Path:
    """One file per teacher (weights, how serving reads a face, prior correction, temperature) and set of faces: a
    changed teacher or other faces never reuse stale answers."""
    digest = hashlib.sha256(Path(card.runtime_weights if card.converted else card.weights).read_bytes())
    rules = [card.raw.get(key) for key in (*READING, "class_prior_correction")] + [card.temperature]
    digest.update(json.dumps(rules).encode())
    digest.update(np.ascontiguousarray(images).tobytes())
    return CACHE_DIR / f"{card.name}-{digest.hexdigest()[:16]}.npy"


def teacher_probabilities(card: ModelCard, images: np.ndarray) -> np.ndarray:
    """(N, 7) float32 probabilities the teacher's served file gives uint8 (N, 48, 48) faces."""
    path = cache_path(card, images)
    if path.exists():
        return np.load(path)
    probabilities = served_classifier(card, THREADS).probabilities(images[..., None]).astype(np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, probabilities)
    return probabilities


def blended_targets(hard: np.ndarray, teacher: np.ndarray, teacher_weight: float) -> np.ndarray:
    """The label's (smoothed) one-hot targets and the teacher's probabilities, mixed; rows still sum to one."""
    return ((1.0 - teacher_weight) * hard + teacher_weight * teacher).astype(np.float32)


def training_targets(
    labels: np.ndarray, images: np.ndarray, smoothing: float, teacher: str | None, teacher_weight: float
) -> np.ndarray:
    """(N, 7) targets for these faces: the smoothed labels, blended with the shipped `teacher`'s probabilities for
    `images` when a teacher is named."""
    targets = smoothed_targets(labels, smoothing)
    if teacher is None:
        return targets
    return blended_targets(targets, teacher_probabilities(load_card(teacher), images), teacher_weight)
