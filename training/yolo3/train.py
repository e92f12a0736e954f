"""Train the yolo3 detector on synthetic scenes, with checkpoint and resume, and write its card.

Backend-agnostic: the same command runs on tensorflow-cpu here and on KERAS_BACKEND=jax on a GPU.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import sys
import time
from pathlib import Path

import keras
import numpy as np

from moodlens.modelcard import EMOTIONS, ONE_PASS, write_card
from training.convert import convert_after_training
from training.yolo3 import model as net
from training.yolo3 import scenes

CARD_NAME = "yolo3"
# Epoch e of --redraw-scenes draws its scenes from seed + e * SCENE_SEED_STEP: never the val scenes' seed + 1.
SCENE_SEED_STEP = 7919
# The card's test-time reads (set and measured by python -m training.yolo3 evaluate), carried into a further cycle.
SERVING_READS = ("second_emotion_read", "large_face_read", "face_check", "face_reread")


class SceneBatches(keras.utils.PyDataset):
    """Batches of (gray images, per-scale targets); scenes are reshuffled and randomly mirrored
    each epoch from a seed, so a resumed run sees the same batches it would have seen. With redraw
    (epoch -> SceneSet), every epoch after the first trains on newly drawn scenes."""

    def __init__(
        self,
        data: scenes.SceneSet,
        anchors: np.ndarray,
        batch_size: int,
        seed: int,
        augment: bool = True,
        redraw=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.first_data = self.data = data
        self.redraw = redraw
        self.anchors = anchors
        self.batch_size = batch_size
        self.seed = seed
        self.augment = augment
        self.epoch = 0
        self._order = self._permutation()

    def _permutation(self) -> np.ndarray:
        n = len(self.data.images)
        if not self.augment:
            return np.arange(n)
        return np.random.default_rng([self.seed, self.epoch]).permutation(n)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch
        if self.redraw is not None:
            self.data = self.redraw(epoch) if epoch else self.first_data
        self._order = self._permutation()

    def __len__(self) -> int:
        return (
            max(1, len(self.data.images) // self.batch_size)
            if self.augment
            else -(-len(self.data.images) // self.batch_size)
        )

    def __getitem__(self, index):
        ids = self._order[index * self.batch_size : (index + 1) * self.batch_size]
        images = self.data.images[ids].astype(np.float32)
        size = images.shape[1]
        boxes = [self.data.boxes[i].copy() for i in ids]
        if self.augment:
            flips = np.random.default_rng([self.seed, self.epoch, index]).random(len(ids)) < 0.5
            images[flips] = images[flips, :, ::-1]
            for b, flip in zip(boxes, flips):
                if flip and len(b):
                    b[:, 0] = size - b[:, 0] - b[:, 2]
        targets = net.build_targets(boxes, [self.data.labels[i] for i in ids], size, self.anchors)
        return images[..., None], tuple(targets)

    def on_epoch_end(self):
        self.set_epoch(self.epoch + 1)


class Checkpoint(keras.callbacks.Callback):
    """After every epoch: the full model with its optimizer state, and the run's state, written
    atomically so an interrupted run resumes from the last complete epoch."""

    def __init__(self, directory: Path, state: dict, started: float):
        super().__init__()
        self.directory = directory
        self.state = state
        self.started = started

    def on_train_batch_end(self, batch, logs=None):
        # Defining this hook turns off Keras' asynchronous batch callbacks: on JAX their worker threads
        # read the step's logs while the main thread compiles the validation step, which crashed
        # jaxlib 0.10 (segfault). The hook itself needs nothing.
        return

    def on_epoch_end(self, epoch, logs=None):
        self.directory.mkdir(parents=True, exist_ok=True)
        tmp = self.directory / "last.tmp.keras"
        self.model.save(tmp)
        tmp.replace(self.directory / "last.keras")
        self.state["epoch"] = epoch + 1
        self.state["wall_s"] = self.state.get("wall_s_before", 0.0) + time.time() - self.started
        self.state.setdefault("history", []).append(
            {
                "epoch": epoch + 1,
                "learning_rate": float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate)),
                "wall_s": round(self.state["wall_s"], 1),
                **{k: round(float(v), 5) for k, v in (logs or {}).items()},
            }
        )
        path = self.directory / "state.json"
        path.with_suffix(".tmp").write_text(json.dumps(self.state, indent=1))
        path.with_suffix(".tmp").replace(path)


class TimeBudget(keras.callbacks.Callback):
    """Fits training to a wall-clock budget: at each epoch start the learning rate follows a warmup +
    cosine curve of the fraction of the budget spent (the same shape as the step schedule), and training
    stops before an epoch that would overrun it. Used on GPU machines whose speed is not known ahead."""

    def __init__(self, budget_s: float, lr: float, spent_before: float):
        super().__init__()
        self.budget_s = budget_s
        self.lr = lr
        self.spent_before = spent_before
        self.started = time.time()
        self.epochs_done = 0

    def spent(self) -> float:
        return self.spent_before + time.time() - self.started

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch_started = time.time()
        self.model.optimizer.learning_rate = time_lr(self.spent() / self.budget_s, self.lr)

    def on_epoch_end(self, epoch, logs=None):
        # The first epoch of a process includes compiling the step, so it says little about the next.
        next_epoch_s = time.time() - self.epoch_started if self.epochs_done else 0.0
        self.epochs_done += 1
        if self.spent() + next_epoch_s > self.budget_s:
            self.model.stop_training = True


def time_lr(fraction: float, peak: float, warmup: float = 0.05, floor: float = 0.02) -> float:
    if fraction < warmup:
        return peak * (0.1 + 0.9 * fraction / warmup)
    progress = min(1.0, (fraction - warmup) / (1 - warmup))
    return peak * (floor + (1 - floor) * 0.5 * (1 + np.cos(np.pi * progress)))


def _hardware() -> str:
    if os.environ.get("MOODLENS_HARDWARE"):
        return os.environ["MOODLENS_HARDWARE"]
    backend = keras.backend.backend()
    device = "cpu"
    if backend == "jax":
        import jax

        device = ", ".join(sorted({d.device_kind for d in jax.devices()}))
    return f"{platform.processor() or platform.machine()}; keras {keras.__version__} on {backend}; {device}"


def train(args) -> dict:
    keras.utils.set_random_seed(args.seed)
    ckpt_dir = Path(args.checkpoint_dir)
    state_path = ckpt_dir / "state.json"
    resumed = state_path.exists() and (ckpt_dir / "last.keras").exists()
    if resumed:
        state = json.loads(state_path.read_text())
        # The data and model recipe of a resumed run are the stored ones: only the epoch count may grow.
        stored = state["args"]
        for key, value in stored.items():
            if key not in ("epochs", "out", "checkpoint_dir", "workers", "fer_dir") and getattr(args, key) != value:
                print(f"resume: keeping stored {key}={value!r} (asked {getattr(args, key)!r})", file=sys.stderr)
                setattr(args, key, value)
    else:
        state = {"args": {k: v for k, v in vars(args).items() if k != "func"}}

    recipe = scenes.Recipe(
        size=args.size,
        max_face=args.max_face,
        photo_fraction=args.photo_backgrounds,
        bald_fraction=args.bald_heads,
        reread_fraction=args.reread_faces,
        reread_sides=tuple(args.reread_sides),
    )
    t0 = time.time()
    targets = emotion_targets(args)
    data = scenes.generate(Path(args.fer_dir), args.scenes, args.seed, recipe, workers=args.workers, targets=targets)
    val = scenes.generate(Path(args.fer_dir), args.val_scenes, args.seed + 1, recipe, split="val", workers=args.workers)
    gen_s = time.time() - t0
    print(
        f"scenes: {len(data.images)} train + {len(val.images)} val at {args.size}px in {gen_s:.1f}s "
        f"({sum(map(len, data.boxes))} faces)",
        flush=True,
    )

    if resumed:
        anchors = np.asarray(state["anchors"], np.float32)
        model = keras.saving.load_model(ckpt_dir / "last.keras")
        initial_epoch = int(state["epoch"])
        state["wall_s_before"] = state.get("wall_s", 0.0)
        print(f"resuming from epoch {initial_epoch} ({ckpt_dir})", flush=True)
    else:
        if args.init_from:
            # A further cycle of a trained detector: its weights, and the anchors its heads were fitted to.
            init_card = json.loads(Path(args.init_from).with_suffix(".json").read_text())
            anchors = np.asarray(init_card["anchors"], np.float32)
            model = keras.saving.load_model(args.init_from, compile=False)
            state["continued_from"] = init_card["training"]
            state["serving_reads"] = {key: init_card[key] for key in SERVING_READS if init_card.get(key)}
        else:
            anchors = net.fit_anchors(np.concatenate(data.boxes)[:, 2:4], seed=args.seed)
            model = net.build(args.width)
        state["anchors"] = anchors.round(2).tolist()
        if args.backbone:
            net.load_backbone(model, args.backbone)
            state["backbone"] = json.loads(Path(args.backbone).with_suffix(".json").read_text())
        if args.time_budget:
            schedule = args.lr * 0.1
        else:
            steps = args.epochs * max(1, args.scenes // args.batch)
            schedule = keras.optimizers.schedules.CosineDecay(
                args.lr * 0.1,
                decay_steps=max(1, steps - steps // 20),
                alpha=0.02,
                warmup_target=args.lr,
                warmup_steps=steps // 20,
            )
        model.compile(
            optimizer=keras.optimizers.AdamW(schedule, weight_decay=5e-4, clipnorm=10.0),
            loss=[net.YoloLoss() for _ in net.STRIDES],
        )
        initial_epoch = 0
        state["wall_s_before"] = 0.0
    print("anchors (w, h px):", np.asarray(anchors).round(1).tolist(), flush=True)

    redraw = None
    if args.redraw_scenes:
        # A fixed scene set is memorised within ~10 epochs (val loss turned up at epoch 11 of 20, measured).
        def redraw(epoch: int) -> scenes.SceneSet:
            return scenes.generate(
                Path(args.fer_dir),
                args.scenes,
                args.seed + SCENE_SEED_STEP * epoch,
                recipe,
                workers=args.workers,
                targets=targets,
            )

    train_batches = SceneBatches(data, anchors, args.batch, args.seed, workers=args.loader_threads, redraw=redraw)
    train_batches.set_epoch(initial_epoch)
    val_batches = SceneBatches(val, anchors, args.batch, args.seed, augment=False)
    started = time.time()
    callbacks = [Checkpoint(ckpt_dir, state, started)]
    if args.time_budget:
        callbacks.insert(0, TimeBudget(args.time_budget, args.lr, state["wall_s_before"]))
    if initial_epoch < args.epochs and not state.get("budget_spent"):
        model.fit(
            train_batches,
            validation_data=val_batches,
            epochs=args.epochs,
            initial_epoch=initial_epoch,
            callbacks=callbacks,
            verbose=2,
        )
        if args.time_budget and model.stop_training:
            state["budget_spent"] = True
            (ckpt_dir / "state.json").write_text(json.dumps(state, indent=1))
    wall_s = state.get("wall_s", 0.0)

    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    weights = out_dir / f"{CARD_NAME}.keras"
    export(model, weights)
    card = make_card(
        args,
        recipe,
        anchors,
        wall_s,
        gen_s,
        state.get("history", []),
        state.get("epoch", 0),
        state.get("backbone"),
        state.get("continued_from"),
    )
    # A further cycle is served as the one it continues, with the same test-time reads on its card.
    card.update(state.get("serving_reads", {}))
    card_path = out_dir / f"{CARD_NAME}.json"
    write_card(card_path, card)
    # Serving runs the LiteRT file: convert now, so the model is servable as soon as it is trained.
    card = convert_after_training(card_path)
    print(f"wrote {weights} ({weights.stat().st_size / 1e6:.2f} MB) and {card_path}", flush=True)
    return card


def emotion_targets(args) -> np.ndarray | None:
    """With --teacher, each training face's emotion target: its smoothed label blended with the teacher's served
    probabilities for the whole 48 px face, which a face shrunk into a scene no longer shows as clearly."""
    if not args.teacher:
        return None
    from training.distill import training_targets

    faces, labels = scenes.load_faces(Path(args.fer_dir), "train")
    return training_targets(labels, faces, net.LABEL_SMOOTHING, args.teacher, args.teacher_weight)


def export(model: keras.Model, path: Path) -> None:
    """Saves the network alone: a fresh functional wrapper carries no loss or optimizer, so the file
    loads with keras.saving.load_model and no custom objects."""
    plain = keras.Model(model.input, model.outputs, name=model.name)
    tmp = path.with_suffix(".tmp.keras")
    plain.save(tmp)
    shutil.move(tmp, path)


def make_card(
    args,
    recipe: scenes.Recipe,
    anchors: np.ndarray,
    wall_s: float,
    gen_s: float,
    history: list,
    state_epochs: int,
    backbone: dict | None,
    continued_from: dict | None = None,
) -> dict:
    command = "python -m training.yolo3 train " + " ".join(
        f"--{k.replace('_', '-')} {v}".rstrip() for k, v in state_args(args).items()
    )
    return {
        "name": CARD_NAME,
        "file": f"{CARD_NAME}.keras",
        "kind": ONE_PASS,
        "classes": list(EMOTIONS),
        "input": {
            "channels": 1,
            "gray": "ITU-R 601-2 luma of the RGB photo (PIL 'L')",
            "side": args.serve_size,
            "pad_value": 128.0,
            "letterbox": "scale the photo so its longer side is `side`, pad right and bottom with pad_value "
            "to a side x side square",
            "normalization": "inside the network (Rescaling 1/127.5, offset -1): feed gray 0..255 as float32",
        },
        "output": "raw heads, one per stride: (N, H/stride, W/stride, anchors_per_scale * (5 + classes)); per "
        "anchor: objectness logit, x and y offset logits, log w and log h over the anchor, class logits",
        "strides": list(net.STRIDES),
        "anchors_per_scale": net.ANCHORS_PER_SCALE,
        "anchors": np.asarray(anchors).round(2).tolist(),
        "thresholds": {"confidence": args.confidence, "nms_iou": 0.45, "min_side": 8},
        "temperature": 1.0,
        "metrics": {},
        "training": {
            "command": command,
            "data": {
                "recipe": "FER2013 train faces (minus FER+ 'not a face' rows where the votes are in the file) pasted "
                "with feathered edges at random scales, positions and small rotations onto procedural face-free "
                "backgrounds (multi-octave noise, gradients, random shapes, lines and lettering, periodic textures) "
                f"with decoys (FER faces with shuffled quadrants); in {recipe.people_fraction:.0%} of scenes every "
                f"face sits on a drawn person (hair, neck, shoulders; {recipe.bald_fraction:.0%} of them bald: skin "
                f"from crown to neck); {recipe.portrait_fraction:.0%} of scenes are portraits (one face, up to 85 % "
                f"of the frame); {recipe.photo_fraction:.0%} of scenes are drawn on a face-free photograph "
                "(scikit-image's sample images) with some of its objects pasted as decoys; per-face gamma, "
                "contrast, brightness, mirror, blur of small faces, sharpening and grain of large ones; "
                "per-scene depth-of-field blur of the background, exposure, contrast, blur and sensor noise; "
                "scenes mirrored at random each epoch. Real photos are never used for training.",
                "scenes": args.scenes,
                "scene_size": args.size,
                "face_sides_px": [recipe.min_face, recipe.largest_face],
                **(
                    {"reread_faces": {"fraction": recipe.reread_fraction, "sides_px": list(recipe.reread_sides)}}
                    if recipe.reread_fraction
                    else {}
                ),
                "seed": args.seed,
                "class_sampling": "frequency ** 0.7 (mild rebalancing, helps disgust)",
                "label_smoothing": net.LABEL_SMOOTHING,
                "class_targets": "every positive anchor, and (class only, weights summing to one per face and "
                "anchor) the other cells in the middle half of the face"
                + (
                    f"; targets blended {1 - args.teacher_weight:g}:{args.teacher_weight:g} with the served "
                    f"probabilities of {args.teacher} for the whole face (knowledge distillation)"
                    if args.teacher
                    else ""
                ),
                "anchors": "k-means (1 - IoU) on the training face sizes",
                "box_convention": f"label box = MTCNN's median box on FER crops, {list(scenes.CROP_TO_FACE)} "
                "(x0, y0, w, h as fractions of the pasted crop; python -m training.yolo3 calibrate)",
            },
            "epochs": state_epochs,
            "time_budget_s": args.time_budget or None,
            "batch": args.batch,
            "optimizer": f"AdamW lr {args.lr} cosine with warmup (over steps, or over the time budget per epoch), "
            "weight decay 5e-4, clipnorm 10",
            "wall_time_s": round(wall_s, 1),
            "backbone_pretraining": backbone,
            "continued_from": continued_from,
            "total_wall_time_s": round(
                wall_s
                + (backbone or {}).get("wall_seconds", 0.0)
                + (continued_from or {}).get("total_wall_time_s", 0.0),
                1,
            ),
            "scene_generation_s": round(gen_s, 1),
            "hardware": _hardware(),
            "history": history[-3:],
        },
        "description": "One-pass face finder and emotion reader (tiny-YOLOv3 style, grayscale).",
    }


def state_args(args) -> dict:
    keys = (
        "epochs",
        "time_budget",
        "scenes",
        "val_scenes",
        "size",
        "max_face",
        "photo_backgrounds",
        "bald_heads",
        "batch",
        "lr",
        "width",
        "seed",
        "serve_size",
        "confidence",
        "pretrain_epochs" if args.pretrain_epochs else "backbone",
        "init_from",
        "teacher",
    )
    chosen = {k: getattr(args, k) for k in keys if getattr(args, k) is not None}
    if args.teacher:
        chosen["teacher_weight"] = args.teacher_weight
    if args.reread_faces:
        chosen["reread_faces"] = args.reread_faces
        chosen["reread_sides"] = " ".join(f"{side:g}" for side in args.reread_sides)
    return {**chosen, "redraw_scenes": ""} if args.redraw_scenes else chosen
