"""Train a classifier from scratch: `python -m training.train <inception-resnet|mobilenetv2> [options]`.

Reads FER2013 train/val, trains with host-side augmentation (training/augment.py), checkpoints every epoch (an
interrupted run resumes from --checkpoint-dir), fits the calibration temperature on val through serving's Classifier,
and writes functions/models/<name>.keras + the model card functions/models/<name>.json (moodlens.modelcard.write_card:
a card serving cannot read is refused). Runs on any Keras 3 backend (tensorflow-cpu here, KERAS_BACKEND=jax or torch
on a GPU).
"""

import argparse
import json
import math
import os
import platform
import shlex
import shutil
import sys
import time
from pathlib import Path

from moodlens.modelcard import CLASSIFIER, EMOTIONS, parse_card
from moodlens.predict.classifier import Classifier
from training import data
from training.convert import publish_classifier
from training.distill import training_targets
from training.ensemble import member_names
from training.evaluate import MODELS_DIR, card_metrics, measured_fields

DESCRIPTIONS = {
    "inception-resnet": "Inception-ResNet (stem, residual Inception blocks A/B/C with scaled residuals, reduction "
    "blocks) for 48 px faces: the most accurate model, behind the MTCNN face detector.",
    "mobilenetv2": "MobileNetV2 (inverted residuals, linear bottlenecks) for 48 px faces: the fastest classifier, "
    "behind the MTCNN face detector.",
}
# How a detector's face box becomes a crop framed like FER2013's tight, roughly aligned faces: MTCNN's box itself,
# eyes levelled, matches FER's framing (eyes at ~40 % height, chin at the bottom edge) better than looser squares.
CROP_RULE = {"align_eyes": True, "box_scale": 1.0, "center_dy": 0.0}
# Serving stretches faces flatter than this (pixel standard deviation) to it: a quarter of FER2013's faces are
# flatter (val's 25th percentile: 44.7), half of the shared photos' faces are (median 43.5). Measured on
# inception-resnet, trained without it (python -m training.evaluate NAME --write-card): val 69.63 -> 69.88 %; 900 val
# faces with their contrast cut to 0.6 times read 66.7 -> 68.6 %, cut to 0.4 times 65.1 -> 68.8 %.
CONTRAST_FLOOR = 45.0
WARMUP_EPOCHS = 2
BATCHNORM_FACES = 2048
BACKUP_DIR = "backup"  # BackupAndRestore's model and optimizer state, per epoch
CLOCK_FILE = "wall_seconds.json"  # wall time and epochs across sittings
INIT_WEIGHTS, INIT_CARD = "init.keras", "init.json"  # --init-from's starting point, kept for resumed sittings


def recompute_batchnorm_statistics(model, faces) -> None:
    """Replace BatchNorm's moving averages by the statistics of un-augmented training faces ("precise BN").

    The moving averages trail the weights and were taken on augmented faces; serving sees plain faces.
    """
    import keras

    norms = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    saved = [layer.momentum for layer in norms]
    for layer in norms:
        layer.momentum = 0.0  # the next training-mode call sets each moving statistic to its batch statistic
    model(faces, training=True)
    for layer, momentum in zip(norms, saved):
        layer.momentum = momentum


def start_from(args, checkpoint_dir: Path, resuming: bool):
    """With --init-from, keep a copy of the starting weights and card in the checkpoint folder: the run overwrites the
    originals in --out when it ends, and a resumed sitting must still find them. Returns the card's training record
    (its wall time is added to this run's), or None."""
    if not args.init_from:
        return None
    if not resuming:
        shutil.copyfile(args.init_from, checkpoint_dir / INIT_WEIGHTS)
        shutil.copyfile(args.init_from.with_suffix(".json"), checkpoint_dir / INIT_CARD)
    return json.loads((checkpoint_dir / INIT_CARD).read_text())["training"]


def class_boost(text: str) -> tuple[str, float]:
    name, _, factor = text.partition("=")
    if name not in EMOTIONS:
        raise argparse.ArgumentTypeError(f"{name!r} is not one of {', '.join(EMOTIONS)}")
    try:
        return name, float(factor)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected CLASS=FACTOR, such as fear=1.5") from None


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("name", choices=sorted(DESCRIPTIONS))
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument(
        "--time-budget",
        type=float,
        default=None,
        help="seconds: after the warm-up epochs, set --epochs to what fits (recorded in the card)",
    )
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--learning-rate", type=float, default=3e-3)
    parser.add_argument("--weight-decay", type=float, default=0.05)
    parser.add_argument("--label-smoothing", type=float, default=0.1)
    parser.add_argument(
        "--augmentation-strength",
        type=float,
        default=1.0,
        help="scales every augmentation range (training/augment.py); below 1 for a last, short cycle",
    )
    parser.add_argument(
        "--teacher",
        default=None,
        choices=sorted(DESCRIPTIONS),
        help="a shipped classifier whose probabilities over the training faces are blended into the targets "
        "(knowledge distillation, training/distill.py)",
    )
    parser.add_argument(
        "--teacher-weight", type=float, default=0.5, help="the teacher's share of each target, with --teacher"
    )
    parser.add_argument(
        "--class-boost",
        type=class_boost,
        action="append",
        default=[],
        metavar="CLASS=FACTOR",
        help="multiply one class's training weight (repeatable), e.g. fear=1.5 to lift the least-recalled class",
    )
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument(
        "--init-from",
        type=Path,
        default=None,
        help="a .keras file of the same architecture (with its card beside it) to continue training "
        "from, for a further cosine cycle (a warm restart); its card's training record is kept",
    )
    parser.add_argument(
        "--dtype-policy",
        default="float32",
        choices=["float32", "mixed_bfloat16"],
        help="mixed_bfloat16 trains the Inception-ResNet 1.35x faster on CPUs with AVX512-BF16 "
        "(and slows MobileNetV2's depthwise convolutions down); the shipped file is float32",
    )
    parser.add_argument(
        "--export-checkpoint",
        action="store_true",
        help="train nothing: evaluate and export the last checkpoint of an unfinished run",
    )
    parser.add_argument(
        "--upsample-to",
        type=int,
        default=None,
        metavar="SIDE",
        help="inception-resnet only: the network resizes each 48 px face to SIDE px before its stem (larger grids "
        "throughout, (SIDE/48)^2 the computation); the card's input stays 48 px",
    )
    parser.add_argument("--limit", type=int, default=None, help="use only the first N training faces (smoke runs)")
    parser.add_argument("--out", type=Path, default=MODELS_DIR, help="where the .keras file and card go")
    parser.add_argument(
        "--checkpoint-dir",
        type=Path,
        default=None,
        help="default: checkpoints/<name> in the repo; delete it to start over",
    )
    args = parser.parse_args(argv)
    if args.upsample_to is not None and args.name != "inception-resnet":
        parser.error("--upsample-to applies to inception-resnet only")
    return args


def architecture(args):
    """A fresh network of the run's architecture (float32 or mixed, as the dtype policy in force says)."""
    from training.models import ARCHITECTURES

    options = {} if args.upsample_to is None else {"upsample_to": args.upsample_to}
    return ARCHITECTURES[args.name](**options)


def upsampled_side(network) -> int | None:
    """The side a network built with `upsample_to` resizes faces to, or None."""
    return next((layer.height for layer in network.layers if layer.name == "upsample"), None)


class CosineWithWarmup:
    """Per-epoch learning rate: linear warm-up, then cosine to zero over the remaining epochs.

    Epoch-wise (not step-wise) so that the total can be fixed after the warm-up by --time-budget and a resumed run
    recomputes the same rate from the epoch number alone.
    """

    def __init__(self, peak: float, total_epochs: int):
        self.peak, self.total_epochs = peak, total_epochs

    def __call__(self, epoch: int, _lr=None) -> float:
        if epoch < WARMUP_EPOCHS:
            return self.peak * (epoch + 1) / (WARMUP_EPOCHS + 1)
        progress = (epoch - WARMUP_EPOCHS) / max(1, self.total_epochs - WARMUP_EPOCHS)
        return self.peak * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))


def make_callbacks(keras, args, schedule, checkpoint_dir: Path, batches, resuming: bool):
    clock_file = checkpoint_dir / CLOCK_FILE

    class Clock(keras.callbacks.Callback):
        """Adds up training wall time across sittings, and applies --time-budget after the warm-up."""

        def on_train_begin(self, logs=None):
            self.spent = json.loads(clock_file.read_text())["seconds"] if resuming else 0.0
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            now = time.perf_counter()
            self.spent += now - self.started
            self.started = now
            clock_file.write_text(
                json.dumps({"seconds": self.spent, "epochs_done": epoch + 1, "total_epochs": schedule.total_epochs})
            )
            if args.time_budget and epoch + 1 == WARMUP_EPOCHS:
                per_epoch = self.epoch_seconds
                schedule.total_epochs = max(WARMUP_EPOCHS + 1, int(args.time_budget // per_epoch))
                print(
                    f"time budget {args.time_budget:.0f} s at {per_epoch:.1f} s/epoch: {schedule.total_epochs} epochs",
                    flush=True,
                )
            if epoch + 1 >= schedule.total_epochs:
                self.model.stop_training = True

        def on_epoch_begin(self, epoch, logs=None):
            batches.set_epoch(epoch)
            self.epoch_started = time.perf_counter()

        @property
        def epoch_seconds(self):
            return time.perf_counter() - self.epoch_started

    return [
        keras.callbacks.BackupAndRestore(str(checkpoint_dir / BACKUP_DIR)),
        keras.callbacks.LearningRateScheduler(schedule),
        Clock(),
    ]


def main(argv=None):
    args = parse_args(argv)
    checkpoint_dir = args.checkpoint_dir or data.REPO_ROOT / "checkpoints" / args.name
    checkpoint_dir.mkdir(parents=True, exist_ok=True)
    # BackupAndRestore removes its folder when a run completes: only an unfinished run leaves one to resume.
    resuming = (checkpoint_dir / BACKUP_DIR).exists()
    if args.time_budget and resuming:  # a resumed time-budgeted run keeps the epoch count it settled on
        args.epochs = json.loads((checkpoint_dir / CLOCK_FILE).read_text())["total_epochs"]

    import keras

    from training.augment import AugmentedFaces

    previous_training = start_from(args, checkpoint_dir, resuming)
    keras.utils.set_random_seed(args.seed)
    train, val = data.load("train"), data.load("val")
    if args.limit:
        train = train.subset(slice(0, args.limit))
    mean, std = float(train.images.mean() / 255), float(train.images.std() / 255)
    # The card is built first: training feeds its normalisation, and the shipped network is measured through it.
    args.out.mkdir(parents=True, exist_ok=True)
    weights_path, card_path = args.out / f"{args.name}.keras", args.out / f"{args.name}.json"
    card = {
        "name": args.name,
        "file": weights_path.name,
        "kind": CLASSIFIER,
        "description": DESCRIPTIONS[args.name]
        + (f" It resizes each face to {args.upsample_to} px before its stem." if args.upsample_to else ""),
        "classes": list(EMOTIONS),
        "input": {
            "height": 48,
            "width": 48,
            "channels": 1,
            "color": "grayscale",
            "normalization": {"scale": 1 / 255, "mean": round(mean, 4), "std": round(std, 4)},
            "contrast_floor": CONTRAST_FLOOR,
        },
        "output": "logits",
        "test_time_flip": True,
        "crop": CROP_RULE,
    }
    served = parse_card(card, card_path)
    normalization = served.classifier_input.normalization

    keras.config.set_dtype_policy(args.dtype_policy)
    model = architecture(args)
    if args.init_from:
        start = keras.saving.load_model(checkpoint_dir / INIT_WEIGHTS, compile=False)
        joined = member_names(start)
        if joined:
            raise SystemExit(
                f"{args.init_from} joins {len(joined)} networks (training.ensemble): continue one of its members' "
                "files instead"
            )
        # The weights alone would load into either size: a cycle that forgot --upsample-to would change the network.
        if upsampled_side(start) != args.upsample_to:
            raise SystemExit(
                f"{args.init_from} upsamples faces to {upsampled_side(start)} px, this run to {args.upsample_to}: "
                "pass the same --upsample-to"
            )
        model.set_weights(start.get_weights())
    model.compile(
        optimizer=keras.optimizers.AdamW(learning_rate=args.learning_rate, weight_decay=args.weight_decay),
        loss=keras.losses.CategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    targets = training_targets(train.labels, train.images, args.label_smoothing, args.teacher, args.teacher_weight)
    class_weights = data.class_weights(train.labels, boost=dict(args.class_boost))
    batches = AugmentedFaces(
        train.images,
        targets,
        data.balancing_weights(train.labels, boost=dict(args.class_boost)),
        args.batch_size,
        args.seed,
        normalization,
        args.augmentation_strength,
    )
    schedule = CosineWithWarmup(args.learning_rate, args.epochs)
    if args.export_checkpoint:
        model.load_weights(checkpoint_dir / BACKUP_DIR / "latest.weights.h5")
    else:
        model.fit(
            batches,
            epochs=10_000,  # the Clock callback stops at the scheduled epoch count, which --time-budget may set late
            callbacks=make_callbacks(keras, args, schedule, checkpoint_dir, batches, resuming),
            verbose=2,
        )

    # Ship the network alone, in float32: a fresh, uncompiled copy leaves AdamW's two slots per weight (2/3 of the
    # file) out, and it is what serving will run, so it is the copy that is measured.
    keras.config.set_dtype_policy("float32")
    shipped = architecture(args)
    shipped.set_weights(model.get_weights())
    recompute_batchnorm_statistics(shipped, normalization.apply(train.images[:BATCHNORM_FACES, ..., None]))
    # Serving's classifier reads val: the card's accuracy is what serving delivers.
    temperature, measured = card_metrics(Classifier(served, network=shipped.predict_on_batch), val)
    clock = json.loads((checkpoint_dir / CLOCK_FILE).read_text())

    shipped.save(weights_path)
    command = "python -m training.train " + " ".join(
        shlex.quote(a)
        for a in [
            args.name,
            "--epochs",
            str(clock["total_epochs"]),
            "--seed",
            str(args.seed),
            "--batch-size",
            str(args.batch_size),
            "--learning-rate",
            str(args.learning_rate),
        ]
        + (["--limit", str(args.limit)] if args.limit else [])
        + (["--init-from", str(args.init_from), "--checkpoint-dir", str(args.checkpoint_dir)] if args.init_from else [])
        + (["--upsample-to", str(args.upsample_to)] if args.upsample_to else [])
        + (["--dtype-policy", args.dtype_policy] if args.dtype_policy != "float32" else [])
        + (["--augmentation-strength", str(args.augmentation_strength)] if args.augmentation_strength != 1 else [])
        + (["--teacher", args.teacher, "--teacher-weight", str(args.teacher_weight)] if args.teacher else [])
        + [part for name, factor in args.class_boost for part in ("--class-boost", f"{name}={factor:g}")]
    )
    card.update(
        measured_fields(model, weights_path, temperature, measured)
        | {
            "training": {
                "data": f"FER2013 Training (train.npz), {len(train)} faces, FER2013 labels with label smoothing "
                f"{args.label_smoothing}, square-root class re-weighting"
                + "".join(f", {name} weighted {factor:g}x more" for name, factor in args.class_boost)
                + (
                    f", targets blended {1 - args.teacher_weight:g}:{args.teacher_weight:g} with the served "
                    f"probabilities of {args.teacher} (knowledge distillation, training/distill.py)"
                    if args.teacher
                    else ""
                ),
                # What training.ensemble --undo-class-weights takes out of the logits again.
                "class_weights": {name: round(float(weight), 4) for name, weight in zip(EMOTIONS, class_weights)},
                "augmentation": "mirror, rotation +-15 deg, shift +-10 %, zoom +-15 %, brightness +-20 %, contrast "
                "+-30 %, random erasing of 2-15 % of the face (training/augment.py)"
                + (
                    f", every range and the erasing rate times {args.augmentation_strength}"
                    if args.augmentation_strength != 1
                    else ""
                ),
                "optimizer": f"AdamW, peak learning rate {args.learning_rate}, weight decay {args.weight_decay}, "
                f"{WARMUP_EPOCHS} warm-up epochs then cosine, batch {args.batch_size}",
                "epochs": clock["epochs_done"],
                "scheduled_epochs": clock["total_epochs"],
                "seed": args.seed,
                "command": command,
                "wall_seconds": round(clock["seconds"] + (previous_training or {}).get("wall_seconds", 0), 1),
                "hardware": os.environ.get("MOODLENS_HARDWARE", f"{os.cpu_count()} CPU cores ({platform.machine()})"),
                "keras_backend": keras.backend.backend(),
                "keras_version": keras.__version__,
            },
        }
    )
    if previous_training:
        card["training"]["continued_from"] = previous_training
    # Serving runs the LiteRT file: convert now, so the model is servable as soon as it is trained.
    return publish_classifier(card_path, card)


if __name__ == "__main__":
    sys.exit(main() and 0)
