"""Pretrain the yolo3 backbone as an emotion classifier on whole FER2013 faces.

Same augmentation, label smoothing, class weights, schedule, checkpointing and resume as the classifiers
(training/train.py), so `python -m training.yolo3 train --backbone ...` starts its detector from
features that already read expressions. Writes <checkpoint-dir>/backbone.keras and backbone.json.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from moodlens.modelcard import Normalization
from moodlens.ops import softmax
from training import data, evaluate
from training.train import BACKUP_DIR, CLOCK_FILE, CosineWithWarmup, make_callbacks
from training.yolo3 import model as net
from training.yolo3 import scenes

# The network rescales 0..255 itself (model.INPUT_SCALE): feed the augmented faces unchanged.
RAW_PIXELS = Normalization(scale=1.0, mean=0.0, std=1.0)
WEIGHTS, CARD = "backbone.keras", "backbone.json"


def pretrain(args) -> dict:
    import keras

    from training.augment import AugmentedFaces

    checkpoint_dir = Path(args.checkpoint_dir)
    checkpoint_dir.mkdir(parents=True, exist_ok=True)
    resuming = (checkpoint_dir / BACKUP_DIR).exists()
    if args.time_budget and resuming:
        args.epochs = json.loads((checkpoint_dir / CLOCK_FILE).read_text())["total_epochs"]
    keras.utils.set_random_seed(args.seed)
    faces, labels = scenes.load_faces(Path(args.fer_dir), "train")
    val_faces, val_labels = scenes.load_faces(Path(args.fer_dir), "val")
    if args.limit:
        faces, labels, val_faces, val_labels = (
            faces[: args.limit],
            labels[: args.limit],
            val_faces[: args.limit],
            val_labels[: args.limit],
        )

    model = net.emotion_classifier(args.width)
    model.compile(
        optimizer=keras.optimizers.AdamW(learning_rate=args.lr, weight_decay=args.weight_decay),
        loss=keras.losses.CategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    batches = AugmentedFaces(
        faces, data.smoothed_targets(labels, 0.1), data.balancing_weights(labels), args.batch, args.seed, RAW_PIXELS
    )
    schedule = CosineWithWarmup(args.lr, args.epochs)
    started = time.time()
    model.fit(
        batches,
        epochs=10_000,
        verbose=2,
        validation_data=(val_faces[..., None].astype(np.float32), data.smoothed_targets(val_labels, 0.0)),
        callbacks=make_callbacks(keras, args, schedule, checkpoint_dir, batches, resuming),
    )
    clock = json.loads((checkpoint_dir / CLOCK_FILE).read_text())

    logits = model.predict(val_faces[..., None].astype(np.float32), batch_size=256, verbose=0)
    result = evaluate.metrics(softmax(logits), val_labels)
    record = {
        "task": "emotion classification of whole 48 px FER2013 train faces (backbone + global pooling + dense)",
        "command": f"python -m training.yolo3 pretrain --epochs {clock['total_epochs']} --batch {args.batch} "
        f"--lr {args.lr} --weight-decay {args.weight_decay} --width {args.width} --seed {args.seed}",
        "epochs": clock["epochs_done"],
        "wall_seconds": round(clock["seconds"], 1),
        "val_accuracy": result["accuracy"],
        "val_per_class_recall": {c: round(r, 3) for c, r in result["per_class_recall"].items()},
        "augmentation": "training/augment.py, as the classifiers",
    }
    model.save(checkpoint_dir / WEIGHTS)
    (checkpoint_dir / CARD).write_text(json.dumps(record, indent=1) + "\n")
    print(
        json.dumps({k: record[k] for k in ("val_accuracy", "epochs", "wall_seconds")}),
        f"({time.time() - started:.0f} s this sitting)",
        flush=True,
    )
    return record
