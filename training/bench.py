"""Per-face CPU latency (one core, batch 1) and file size of each shipped model: `python -m training.bench`.

Times the serving code itself (moodlens.predict.classifier on the card's LiteRT file: normalisation, flip averaging,
temperature), so the numbers are what a request pays per face once the model is loaded. Prints one line per model,
then JSON.
"""

import argparse
import json
import os
import statistics
import time

import numpy as np

from moodlens.modelcard import CLASSIFIER, ModelCard
from moodlens.predict.catalog import available_cards
from moodlens.predict.classifier import Classifier
from training.data import load
from training.evaluate import MODELS_DIR


def one_core() -> None:
    """One core, as the targets are stated (the classifier already runs one thread a call; numpy would take more)."""
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


def time_ms(call, repeats: int) -> float:
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def measure(card: ModelCard, crop: np.ndarray, repeats: int) -> dict:
    """One classifier on one uint8 (1, H, W, C) face: as serving reads it, and the network's call alone."""
    classifier = Classifier(card)
    x = np.zeros((1, *classifier.pixel_shape), np.float32)
    return {
        "model": card.name,
        "ms_per_face": round(time_ms(lambda: classifier.probabilities(crop), repeats), 2),
        "ms_per_network_call": round(time_ms(lambda: classifier.network(x), repeats), 2),
        "file_mb": round(card.weights.stat().st_size / 1e6, 2),
        "runtime_file_mb": round(card.runtime_weights.stat().st_size / 1e6, 2),
        "parameters": int(card.raw["parameters"]),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args(argv)
    one_core()
    crop = load("val").images[:1, ..., None]
    results = []
    for name, card in available_cards(MODELS_DIR).items():
        if card.kind != CLASSIFIER:
            continue
        result = measure(card, crop, args.repeats)
        print(
            f"{name:17s} {result['ms_per_face']:6.2f} ms/face as served ({result['ms_per_network_call']:.2f} one "
            f"network call on one face), {result['file_mb']:.1f} MB .keras, {result['runtime_file_mb']:.1f} MB "
            f".tflite, {result['parameters']:,} parameters"
        )
        results.append(result)
    print(json.dumps(results))
    return results


if __name__ == "__main__":
    main()
