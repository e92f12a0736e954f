"""Evaluate a shipped classifier: `python -m training.evaluate <name> [--data FILE.npz] [--write-card]`.

Faces go through serving's own Classifier (moodlens.predict.classifier: the card's normalisation, test-time flip and
temperature), so the accuracy measured here is what serving delivers. Prints overall and per-class accuracy, the
confusion matrix, the expected calibration error and accuracy against the FER+ majority labels, then one line of JSON.
"""

import argparse
import json
from pathlib import Path

import numpy as np

from moodlens.modelcard import EMOTIONS, ModelCard, calibrated_probabilities, read_card, write_card
from moodlens.predict.classifier import Classifier
from moodlens.settings import Settings
from training.data import load

# Where serving looks for its models, so that training writes and evaluates the files that ship.
MODELS_DIR = Settings().models_dir


def fit_temperature(plain: np.ndarray, mirrored: np.ndarray | None, labels: np.ndarray) -> float:
    """The temperature that minimises the negative log-likelihood of the probabilities serving would report for
    these logits (flip-averaged where mirrored logits are given)."""
    grid = np.arange(0.5, 3.0001, 0.01)
    rows = np.arange(len(labels))
    nll = [-np.mean(np.log(calibrated_probabilities(plain, t, mirrored)[rows, labels] + 1e-12)) for t in grid]
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
    confusion = np.zeros((len(EMOTIONS), len(EMOTIONS)), dtype=int)
    np.add.at(confusion, (labels, predicted), 1)
    recall = confusion.diagonal() / np.maximum(confusion.sum(axis=1), 1)
    has_majority = np.zeros(len(labels), bool) if ferplus_label7 is None else ferplus_label7 >= 0
    return {
        "accuracy": round(float((predicted == labels).mean()), 4),
        "per_class_recall": {c: round(float(r), 4) for c, r in zip(EMOTIONS, recall)},
        "ece": round(expected_calibration_error(probabilities, labels), 4),
        "ferplus_majority_accuracy": round(float((predicted[has_majority] == ferplus_label7[has_majority]).mean()), 4)
        if has_majority.any()
        else None,
        "confusion": confusion.tolist(),
        "n": int(len(labels)),
    }


def card_metrics(classifier: Classifier, split) -> tuple[float, dict]:
    """The temperature fitted on `split` (val) and the card's metrics block, both through serving's Classifier. The
    temperature is fitted on the raw logits, then the metrics use the probabilities serving reports at that
    temperature."""
    plain, mirrored = classifier.logits(split.images[..., None])
    temperature = fit_temperature(plain, mirrored, split.labels)
    no_flip = metrics(calibrated_probabilities(plain, temperature), split.labels, split.ferplus_label7)
    result = metrics(calibrated_probabilities(plain, temperature, mirrored), split.labels, split.ferplus_label7)
    return temperature, {
        "data": "FER2013 PublicTest (val.npz), 3,589 faces; the calibration temperature was fitted on the same split",
        "accuracy": result["accuracy"],
        "accuracy_without_flip": no_flip["accuracy"],
        "per_class_recall": result["per_class_recall"],
        "ece": result["ece"],
        "ferplus_majority_accuracy": result["ferplus_majority_accuracy"],
        "confusion": result["confusion"],
        "n": result["n"],
        "measured_by": f"python -m training.evaluate {classifier.card.name}",
    }


def measured_fields(network, weights: Path, temperature: float, measured: dict) -> dict:
    """What a card says of a saved Keras network measured on val: its temperature, size and metrics."""
    return {
        "temperature": temperature,
        "parameters": int(network.count_params()),
        "file_bytes": weights.stat().st_size,
        "metrics": measured,
    }


def headline(measured: dict, name: str, temperature: float | None = None) -> dict:
    """The one line of JSON that training and evaluation end with."""
    keys = ("accuracy", "per_class_recall", "ece", "n", "accuracy_without_flip", "ferplus_majority_accuracy")
    summary = {"model": name, **{k: measured[k] for k in keys if k in measured}}
    return summary if temperature is None else {**summary, "temperature": temperature}


def print_report(name: str, result: dict) -> None:
    print(
        f"{name}: accuracy {result['accuracy']:.4f} on {result['n']} faces, ECE {result['ece']:.4f}, "
        f"FER+ majority accuracy {result['ferplus_majority_accuracy']}"
    )
    for cls, recall in result["per_class_recall"].items():
        print(f"  {cls:9s} recall {recall:.4f}")
    print("confusion (rows: true, columns: predicted; order " + ", ".join(EMOTIONS) + ")")
    for cls, row in zip(EMOTIONS, result["confusion"]):
        print(f"  {cls:9s} " + " ".join(f"{v:5d}" for v in row))


def load_card(name: str, models_dir: Path = MODELS_DIR) -> ModelCard:
    return read_card(models_dir / f"{name}.json")


def keras_network(card: ModelCard):
    """The card's Keras file as a network (batch in, outputs out): the reference a runtime file is held to, and what
    reads a card not yet converted."""
    import keras

    return keras.saving.load_model(card.weights, compile=False).predict_on_batch


def served_classifier(card: ModelCard, threads: int = 1) -> Classifier:
    """Serving's Classifier for the card: its runtime file, or its Keras file while the card is not yet converted."""
    return Classifier(card, network=None if card.converted else keras_network(card), threads=threads)


def served_probabilities(classifier: Classifier, faces: np.ndarray) -> np.ndarray:
    """The emotion probabilities serving gives uint8 (N, H, W) gray faces."""
    return classifier.probabilities(faces[..., None])


def evaluate(classifier: Classifier, split) -> dict:
    return metrics(served_probabilities(classifier, split.images), split.labels, split.ferplus_label7)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("name", help="model name: the card <models-dir>/<name>.json and the weights it names")
    parser.add_argument("--data", default="val", help="'val', 'train' or a path to an .npz of the same format")
    parser.add_argument("--models-dir", type=Path, default=MODELS_DIR)
    parser.add_argument(
        "--sample", type=int, default=None, help="evaluate N faces spread evenly over the split (quick checks)"
    )
    parser.add_argument(
        "--write-card",
        action="store_true",
        help="refit the temperature on the whole of val and store it and the metrics in the card (after a change "
        "to how serving reads faces, such as the card's input rules)",
    )
    args = parser.parse_args(argv)
    if args.write_card and (args.sample or args.data != "val"):
        parser.error("--write-card measures the whole of val")

    card = load_card(args.name, args.models_dir)
    classifier = served_classifier(card)
    split = load(args.data)
    if args.sample:
        split = split.subset(np.linspace(0, len(split) - 1, args.sample).astype(int))
    if args.write_card:
        # The metrics block is the full report, measured at the refitted temperature: nothing to read twice.
        temperature, result = card_metrics(classifier, split)
        write_card(card.path, {**card.raw, "temperature": temperature, "metrics": result})
    else:
        result = evaluate(classifier, split)
    print_report(args.name, result)
    summary = headline(result, args.name)
    print(json.dumps(summary))
    return summary


if __name__ == "__main__":
    main()
