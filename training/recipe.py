"""Reproduce a shipped classifier from scratch in one command: `python -m training.recipe <name> [--dry-run]`.

The shipped models were trained in cosine cycles, each continuing from the file the previous one wrote
(`training.train --init-from`, a warm restart), because a run has to fit sittings of a few hours on two CPU cores.
This runs the recorded cycles in order. Each cycle checkpoints in its own folder, so running the recipe again after
an interruption resumes the unfinished cycle and skips the finished ones.
"""

import argparse
import json
import sys
from pathlib import Path

from training import train
from training.data import REPO_ROOT
from training.evaluate import MODELS_DIR

CHECKPOINTS = REPO_ROOT / "checkpoints"

# Per model: (checkpoint folder, arguments of training.train after the name). Cycles 2+ start from the file the previous
# cycle wrote, MODELS_DIR/<name>.keras (training.train's default --out).
CYCLES = {
    "inception-resnet": [
        ("inception-resnet", ["--epochs", "12", "--learning-rate", "0.003"]),
        ("inception-resnet-cycle2", ["--epochs", "29", "--learning-rate", "0.002", "--dtype-policy", "mixed_bfloat16"]),
        (
            "inception-resnet-cycle3",
            [
                "--epochs",
                "5",
                "--learning-rate",
                "0.0003",
                "--augmentation-strength",
                "0.5",
                "--dtype-policy",
                "mixed_bfloat16",
            ],
        ),
        (
            "inception-resnet-cycle4",
            [
                "--epochs",
                "12",
                "--learning-rate",
                "0.0005",
                "--augmentation-strength",
                "0.75",
                "--dtype-policy",
                "mixed_bfloat16",
            ],
        ),
    ],
    "mobilenetv2": [
        ("mobilenetv2", ["--epochs", "20", "--learning-rate", "0.003"]),
        ("mobilenetv2-cycle2", ["--epochs", "42", "--learning-rate", "0.002"]),
        # Distilled from the shipped inception-resnet (training/distill.py): run that model's recipe first. The
        # third cycle read the teacher before its card had a contrast_floor, so a rerun's targets differ a little.
        (
            "mobilenetv2-cycle3",
            ["--epochs", "38", "--learning-rate", "0.002", "--teacher", "inception-resnet", "--teacher-weight", "0.5"],
        ),
        (
            "mobilenetv2-cycle4",
            ["--epochs", "22", "--learning-rate", "0.001", "--augmentation-strength", "0.75"]
            + ["--teacher", "inception-resnet", "--teacher-weight", "0.7"],
        ),
        # Fear, the class read right least often, weighs more in the last two cycles (--class-boost).
        (
            "mobilenetv2-cycle5",
            ["--epochs", "22", "--learning-rate", "0.001", "--augmentation-strength", "0.75"]
            + ["--teacher", "inception-resnet", "--teacher-weight", "0.6", "--class-boost", "fear=1.6"],
        ),
        (
            "mobilenetv2-cycle6",
            ["--epochs", "16", "--learning-rate", "0.0005", "--augmentation-strength", "0.75"]
            + ["--teacher", "inception-resnet", "--teacher-weight", "0.6", "--class-boost", "fear=1.8"],
        ),
    ],
}


def finished(folder) -> bool:
    """A cycle is done when its clock reached the scheduled epochs and no unfinished backup is left."""
    clock = folder / train.CLOCK_FILE
    if not clock.exists() or (folder / train.BACKUP_DIR).exists():
        return False
    state = json.loads(clock.read_text())
    return state["epochs_done"] >= state["total_epochs"]


def commands(name: str) -> list[tuple[Path, list[str]]]:
    """Each cycle's checkpoint folder and its training.train arguments."""
    steps = []
    for index, (folder, arguments) in enumerate(CYCLES[name]):
        start = ["--init-from", str(MODELS_DIR / f"{name}.keras")] if index else []
        steps.append((CHECKPOINTS / folder, [name, *arguments, *start, "--checkpoint-dir", str(CHECKPOINTS / folder)]))
    return steps


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("name", choices=sorted(CYCLES))
    parser.add_argument("--dry-run", action="store_true", help="print the cycles' commands and whether each is done")
    args = parser.parse_args(argv)
    for folder, step in commands(args.name):
        done = finished(folder)
        print(("done: " if done else "run:  ") + "python -m training.train " + " ".join(step), flush=True)
        if not done and not args.dry_run:
            train.main(step)


if __name__ == "__main__":
    sys.exit(main())
