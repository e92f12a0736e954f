"""Evaluate a shipped classifier: `python -m training.evaluate <name> [--data FILE.npz]`.

Prints overall and per-class accuracy, the confusion matrix, the expected calibration error and accuracy against
the FER+ majority labels, then one line of JSON.
"""
import argparse
import json
from pathlib import Path

import numpy as np

from training.data import CLASSES, REPO_ROOT, load

MODELS_DIR = REPO_ROOT / "models"


def normalise(images: np.ndarray, card: dict) -> np.ndarray:
    """uint8 (N, H, W) faces -> the float tensor the model card describes."""
    norm = card["input"]["normalization"]
    x = images.astype(np.float32) * norm["scale"]
    return ((x - norm["mean"]) / norm["std"])[..., None]


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    z = logits / temperature
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def logits_with_flip(model, x: np.ndarray, batch_size: int = 256):
    """Logits of each face and of its mirror image (test-time flip averaging uses both)."""
    plain = np.asarray(model.predict(x, batch_size=batch_size, verbose=0))
    mirrored = np.asarray(model.predict(x[:, :, ::-1], batch_size=batch_size, verbose=0))
    return plain, mirrored


def flip_averaged(plain, mirrored, temperature: float) -> np.ndarray:
    return (softmax(plain, temperature) + softmax(mirrored, temperature)) / 2


def fit_temperature(plain, mirrored, labels) -> float:
    """The temperature that minimises the negative log-likelihood of the flip-averaged probabilities."""
    grid = np.arange(0.5, 3.0001, 0.01)
    nll = [-np.mean(np.log(flip_averaged(plain, mirrored, t)[np.arange(len(labels)), labels] + 1e-12))
           for t in grid]
    return float(round(grid[int(np.argmin(nll))], 2))


def expected_calibration_error(probabilities, labels, bins: int = 15) -> float:
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == labels
    edges = np.linspace(0, 1, bins + 1)
    ece = 0.0
    for low, high in zip(edges[:-1], edges[1:]):
        in_bin = (confidence > low) & (confidence <= high)
        if in_bin.any():
            ece += in_bin.mean() * abs(correct[in_bin].mean() - confidence[in_bin].mean())
    return float(ece)


def metrics(probabilities, labels, ferplus_label7=None) -> dict:
    """Accuracy, per-class recall, calibration and confusion; FER+ majority accuracy where the FER+ labels
    (-1 where the votes have no majority) are given."""
    predicted = probabilities.argmax(axis=1)
    confusion = np.zeros((len(CLASSES), len(CLASSES)), dtype=int)
    np.add.at(confusion, (labels, predicted), 1)
    recall = confusion.diagonal() / np.maximum(confusion.sum(axis=1), 1)
    has_majority = np.zeros(len(labels), bool) if ferplus_label7 is None else ferplus_label7 >= 0
    return {
        "accuracy": round(float((predicted == labels).mean()), 4),
        "per_class_recall": {c: round(float(r), 4) for c, r in zip(CLASSES, recall)},
        "ece": round(expected_calibration_error(probabilities, labels), 4),
        "ferplus_majority_accuracy": round(float((predicted[has_majority] == ferplus_label7[has_majority]).mean()), 4)
        if has_majority.any() else None,
        "confusion": confusion.tolist(),
        "n": int(len(labels)),
    }


def print_report(name: str, result: dict) -> None:
    print(f"{name}: accuracy {result['accuracy']:.4f} on {result['n']} faces, ECE {result['ece']:.4f}, "
          f"FER+ majority accuracy {result['ferplus_majority_accuracy']}")
    for cls, recall in result["per_class_recall"].items():
        print(f"  {cls:9s} recall {recall:.4f}")
    print("confusion (rows: true, columns: predicted; order " + ", ".join(CLASSES) + ")")
    for cls, row in zip(CLASSES, result["confusion"]):
        print(f"  {cls:9s} " + " ".join(f"{v:5d}" for v in row))


def load_card(name: str, models_dir: Path = MODELS_DIR) -> dict:
    return json.loads((models_dir / f"{name}.json").read_text())


def served_probabilities(model, card: dict, faces: np.ndarray) -> np.ndarray:
    """The emotion probabilities serving gives uint8 (N, 48, 48) faces: the card's flip averaging and temperature."""
    plain, mirrored = logits_with_flip(model, normalise(faces, card))
    if card.get("test_time_flip", True):
        return flip_averaged(plain, mirrored, card["temperature"])
    return softmax(plain, card["temperature"])


def evaluate(model, card: dict, split) -> dict:
    return metrics(served_probabilities(model, card, split.images), split.labels, split.ferplus_label7)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("name", help="model name: a models/<name>.keras with its card")
    parser.add_argument("--data", default="val", help="'val', 'train' or a path to an .npz of the same format")
    parser.add_argument("--models-dir", type=Path, default=MODELS_DIR)
    parser.add_argument("--sample", type=int, default=None,
                        help="evaluate N faces spread evenly over the split (quick checks)")
    args = parser.parse_args(argv)

    import keras

    card = load_card(args.name, args.models_dir)
    model = keras.saving.load_model(args.models_dir / card["file"])
    split = load(args.data)
    if args.sample:
        split = split.subset(np.linspace(0, len(split) - 1, args.sample).astype(int))
    result = evaluate(model, card, split)
    print_report(args.name, result)
    summary = {"model": args.name, **{k: result[k] for k in ("accuracy", "per_class_recall", "ece", "n")},
               "ferplus_majority_accuracy": result["ferplus_majority_accuracy"]}
    print(json.dumps(summary))
    return summary


if __name__ == "__main__":
    main()
