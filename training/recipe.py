"""Reproduce a shipped classifier from scratch in one command: `python -m training.recipe <name> [--dry-run]`.

The shipped models were trained in cosine cycles, each continuing from the file the previous one wrote
(`training.train --init-from`, a warm restart), because a run has to fit sittings of a few hours on two CPU cores.
A model served as several networks joined (training.ensemble) has its members trained one after the other, each
into its own folder, then joined into the shipped file. This runs the recorded cycles in order. Each cycle
checkpoints in its own folder, so running the recipe again after an interruption resumes the unfinished cycle and
skips the finished ones; the join is quick and always runs.
"""

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from training import ensemble, train
from training.data import REPO_ROOT
from training.evaluate import MODELS_DIR

CHECKPOINTS = REPO_ROOT / "checkpoints"
BF16 = ["--dtype-policy", "mixed_bfloat16"]
SEED_2, FEAR = ["--seed", "2027"], ["--class-boost", "fear=1.3"]


def gentler(strength: str) -> list[str]:
    return ["--augmentation-strength", strength]


def distilled(weight: str) -> list[str]:
    return ["--teacher", "inception-resnet", "--teacher-weight", weight]


@dataclass(frozen=True)
class Member:
    """One network of a model: its cosine cycles in order, each (checkpoint folder, arguments of training.train after
    the name), the first from scratch."""

    cycles: list[tuple[str, list[str]]]


# Per model: its members. A member's cycles 2+ start from the file its previous cycle wrote: MODELS_DIR/<name>.keras for
# a model of one member, member_dir() for each member of a joined model.
MEMBERS = {
    "inception-resnet": [
        Member(
            [
                ("inception-resnet", ["--epochs", "12", "--learning-rate", "0.003"]),
                ("inception-resnet-cycle2", ["--epochs", "29", "--learning-rate", "0.002", *BF16]),
                ("inception-resnet-cycle3", ["--epochs", "5", "--learning-rate", "0.0003", *gentler("0.5"), *BF16]),
                ("inception-resnet-cycle4", ["--epochs", "12", "--learning-rate", "0.0005", *gentler("0.75"), *BF16]),
            ]
        ),
        # From scratch with its own seed, fear weighted more: its errors differ from the first member's.
        Member(
            [
                ("inception-resnet-member2", ["--epochs", "31", "--learning-rate", "0.003", *SEED_2, *FEAR, *BF16]),
                (
                    "inception-resnet-member2-cycle2",
                    ["--epochs", "12", "--learning-rate", "0.0007", *gentler("0.75"), *SEED_2, *FEAR, *BF16],
                ),
                (
                    "inception-resnet-member2-cycle3",
                    ["--epochs", "10", "--learning-rate", "0.0005", *gentler("0.6"), *SEED_2, *FEAR, *BF16],
                ),
            ]
        ),
    ],
    "mobilenetv2": [
        Member(
            [
                ("mobilenetv2", ["--epochs", "20", "--learning-rate", "0.003"]),
                ("mobilenetv2-cycle2", ["--epochs", "42", "--learning-rate", "0.002"]),
                # Distilled from the shipped inception-resnet (training/distill.py): run that model's recipe first.
                # The shipped cycles read it as its first member alone (the third cycle before its card had a
                # contrast_floor), so a rerun's targets differ a little.
                ("mobilenetv2-cycle3", ["--epochs", "38", "--learning-rate", "0.002", *distilled("0.5")]),
                (
                    "mobilenetv2-cycle4",
                    ["--epochs", "22", "--learning-rate", "0.001", *gentler("0.75"), *distilled("0.7")],
                ),
                # Fear, the class read right least often, weighs more in the last two cycles (--class-boost).
                (
                    "mobilenetv2-cycle5",
                    ["--epochs", "22", "--learning-rate", "0.001", *gentler("0.75"), *distilled("0.6")]
                    + ["--class-boost", "fear=1.6"],
                ),
                (
                    "mobilenetv2-cycle6",
                    ["--epochs", "16", "--learning-rate", "0.0005", *gentler("0.75"), *distilled("0.6")]
                    + ["--class-boost", "fear=1.8"],
                ),
            ]
        ),
    ],
}


def member_dir(name: str, number: int) -> Path:
    """Where member `number` (from 1) of a joined model is trained; a model of one member trains into MODELS_DIR."""
    return MODELS_DIR if len(MEMBERS[name]) == 1 else CHECKPOINTS / f"{name}-member{number}-out"


def commands(name: str) -> list[tuple[Path, list[str]]]:
    """Each cycle's checkpoint folder and its training.train arguments, member after member."""
    steps = []
    for number, member in enumerate(MEMBERS[name], 1):
        weights = member_dir(name, number) / f"{name}.keras"
        for index, (folder, arguments) in enumerate(member.cycles):
            steps.append(
                (
                    CHECKPOINTS / folder,
                    [name, *arguments]
                    + (["--init-from", str(weights)] if index else [])
                    + ["--out", str(weights.parent), "--checkpoint-dir", str(CHECKPOINTS / folder)],
                )
            )
    return steps


def join_arguments(name: str) -> list[str] | None:
    """training.ensemble's arguments that join a model's members into the shipped file; None for one member."""
    if len(MEMBERS[name]) == 1:
        return None
    members = [str(member_dir(name, number) / f"{name}.keras") for number in range(1, len(MEMBERS[name]) + 1)]
    # Every member reads the face and its mirror image (serving's flip): 0.3 point more on val than members taking
    # turns (training.ensemble --alternate-mirror), affordable since inception-resnet runs quantized (training.convert).
    # The class weights the members were trained with are taken back out of the logits: more val faces read right
    # (both on FER2013's and FER+'s labels) and a lower log loss, for every member alone and joined.
    return [name, *members, "--out", str(MODELS_DIR), "--undo-class-weights"]


def finished(folder) -> bool:
    """A cycle is done when its clock reached the scheduled epochs and no unfinished backup is left."""
    clock = folder / train.CLOCK_FILE
    if not clock.exists() or (folder / train.BACKUP_DIR).exists():
        return False
    state = json.loads(clock.read_text())
    return state["epochs_done"] >= state["total_epochs"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("name", choices=sorted(MEMBERS))
    parser.add_argument("--dry-run", action="store_true", help="print the cycles' commands and whether each is done")
    args = parser.parse_args(argv)
    for folder, step in commands(args.name):
        done = finished(folder)
        print(("done: " if done else "run:  ") + "python -m training.train " + " ".join(step), flush=True)
        if not done and not args.dry_run:
            train.main(step)
    joining = join_arguments(args.name)
    if joining:
        print("join: python -m training.ensemble " + " ".join(joining), flush=True)
        if not args.dry_run:
            ensemble.main(joining)


if __name__ == "__main__":
    sys.exit(main())
