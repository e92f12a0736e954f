"""Measure the face-quality limits (moodlens.predict.quality): `python -m training.quality [--faces N]`.

Reads FER2013 val faces through each shipped classifier as they are, shrunk to a smaller side and enlarged again (a
small face in a photo), and blurred; prints the accuracy per condition with its median detail, then the accuracy
per detail band over all conditions pooled.
"""

import argparse

import cv2
import numpy as np

from moodlens.predict.classifier import Classifier
from moodlens.predict.quality import detail
from training.data import load
from training.evaluate import load_card

SIDES = (40, 32, 28, 24, 20, 16)
BLURS = (0.5, 0.75, 1.0, 1.5, 2.0)
BANDS = (0, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6, 0.8, np.inf)


def conditions(faces: np.ndarray) -> dict[str, np.ndarray]:
    def shrunk(side):
        return [cv2.resize(cv2.resize(f, (side, side), interpolation=cv2.INTER_AREA), (48, 48)) for f in faces]

    out = {"as they are": faces}
    out.update({f"shrunk to {side} px": np.stack(shrunk(side)) for side in SIDES})
    out.update({f"blurred, sigma {s} px": np.stack([cv2.GaussianBlur(f, (0, 0), s) for f in faces]) for s in BLURS})
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--faces", type=int, default=900, help="val faces, spread evenly over the split")
    args = parser.parse_args(argv)
    val = load("val")
    val = val.subset(np.linspace(0, len(val) - 1, args.faces).astype(int))
    variants = conditions(val.images)
    details = {name: np.array([detail(face) for face in faces]) for name, faces in variants.items()}
    for name in ("inception-resnet", "mobilenetv2"):
        classifier = Classifier(load_card(name))
        right = {k: classifier.probabilities(v[..., None]).argmax(1) == val.labels for k, v in variants.items()}
        print(f"{name}: accuracy (median detail) on {len(val)} val faces")
        for condition, correct in right.items():
            print(f"  {condition:22s} {correct.mean():6.1%}  ({np.median(details[condition]):.2f})")
        pooled_detail, pooled_right = np.concatenate(list(details.values())), np.concatenate(list(right.values()))
        print("  by detail, all conditions pooled:")
        for low, high in zip(BANDS[:-1], BANDS[1:]):
            band = (pooled_detail >= low) & (pooled_detail < high)
            print(f"    {low:.2f}-{high:.2f}  {pooled_right[band].mean():6.1%} of {band.sum()} faces")


if __name__ == "__main__":
    main()
