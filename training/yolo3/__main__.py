"""python -m training.yolo3 pretrain|train|average|evaluate|calibrate [options]; see --help of each."""

import argparse
import os
import sys
from pathlib import Path


def parse(argv):
    from training.data import REPO_ROOT, fer_dir, shared_data_dir
    from training.evaluate import MODELS_DIR

    parser = argparse.ArgumentParser(prog="python -m training.yolo3")
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="make the synthetic scenes and train (resumes from --checkpoint-dir)")
    t.add_argument("--epochs", type=int, default=30)
    t.add_argument(
        "--time-budget",
        type=float,
        default=0.0,
        help="seconds of training (after scene generation): the learning-rate curve follows the budget "
        "and training stops within it; --epochs is then an upper bound",
    )
    t.add_argument("--scenes", type=int, default=6000, help="training scenes generated up front")
    t.add_argument(
        "--redraw-scenes",
        action="store_true",
        help="draw new training scenes every epoch instead of reusing --scenes scenes (a fixed set was "
        "memorised after ~10 epochs; the shipped model used this)",
    )
    t.add_argument("--val-scenes", type=int, default=300)
    t.add_argument("--size", type=int, default=320, help="side of the square training scenes")
    t.add_argument("--max-face", type=float, default=180.0, help="largest face side in scene pixels")
    t.add_argument(
        "--photo-backgrounds",
        type=float,
        default=0.0,
        help="fraction of scenes drawn on a face-free photograph (scikit-image's samples) with some of "
        "its objects pasted as decoys",
    )
    t.add_argument(
        "--bald-heads",
        type=float,
        default=0.0,
        help="fraction of drawn people with a bald or shaved head (skin from crown to neck)",
    )
    t.add_argument(
        "--reread-faces",
        type=float,
        default=0.0,
        help="fraction of faces drawn at the sides the served face reread scales faces to (--reread-sides) "
        "(pasted crop sides in scene pixels) instead of log-uniformly between the smallest and largest",
    )
    t.add_argument("--reread-sides", type=float, nargs=2, default=[32.0, 60.0], metavar=("LOW", "HIGH"))
    t.add_argument("--batch", type=int, default=32)
    t.add_argument("--lr", type=float, default=2e-3)
    t.add_argument("--width", type=float, default=1.0, help="channel multiplier of the network")
    t.add_argument("--seed", type=int, default=1)
    t.add_argument("--serve-size", type=int, default=320, help="longer side of a photo at serving time")
    t.add_argument("--confidence", type=float, default=0.5, help="objectness threshold written to the card")
    start = t.add_mutually_exclusive_group()
    start.add_argument(
        "--pretrain-epochs",
        type=int,
        default=None,
        help="first run `pretrain` for this many epochs into CHECKPOINT_DIR/backbone (skipped once "
        "done) and start the detector's backbone from it: the whole model in one command",
    )
    start.add_argument(
        "--backbone",
        default=None,
        help="backbone.keras from `pretrain`: the detector's backbone starts from its weights",
    )
    start.add_argument(
        "--init-from",
        default=None,
        help="a trained detector (functions/models/yolo3.keras beside its card): a further cycle from its "
        "weights and anchors; the card keeps the earlier training record",
    )
    t.add_argument(
        "--teacher",
        default=None,
        choices=["inception-resnet", "mobilenetv2"],
        help="a shipped classifier whose probabilities over the training faces (read whole, at 48 px) are blended "
        "into each pasted face's emotion targets (knowledge distillation, training/distill.py)",
    )
    t.add_argument(
        "--teacher-weight", type=float, default=0.5, help="the teacher's share of each emotion target, with --teacher"
    )
    t.add_argument("--fer-dir", default=str(fer_dir()))
    t.add_argument("--out", default=str(MODELS_DIR))
    t.add_argument("--checkpoint-dir", default=str(REPO_ROOT / "checkpoints" / "yolo3"))
    t.add_argument(
        "--workers", type=int, default=max(1, min(16, (os.cpu_count() or 2) - 1)), help="processes generating scenes"
    )
    t.add_argument("--loader-threads", type=int, default=1, help="threads building batches during fit")
    p = sub.add_parser(
        "pretrain",
        help="train the backbone as an emotion classifier on whole FER faces "
        "(resumes from --checkpoint-dir); train --backbone starts from it",
    )
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument(
        "--time-budget",
        type=float,
        default=None,
        help="seconds: after the warm-up epochs, the epoch count is set to fit the budget",
    )
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--weight-decay", type=float, default=0.05)
    p.add_argument("--width", type=float, default=1.0, help="channel multiplier; must match train's --width")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--fer-dir", default=str(fer_dir()))
    p.add_argument("--limit", type=int, default=None, help="use only the first N faces of each split (smoke runs)")
    p.add_argument("--checkpoint-dir", default=str(REPO_ROOT / "checkpoints" / "yolo3-backbone"))
    e = sub.add_parser("evaluate", help="print the issue's table for the shipped model, end with one JSON line")
    e.add_argument("--card", default=str(MODELS_DIR / "yolo3.json"))
    e.add_argument("--fer-dir", default=str(fer_dir()))
    e.add_argument("--photos-dir", default=str(shared_data_dir() / "photos"))
    e.add_argument("--val-limit", type=int, default=None, help="use only this many val faces")
    e.add_argument("--val-scene-size", type=int, default=None, help="default: the card's serving long side")
    pick = e.add_mutually_exclusive_group()
    pick.add_argument(
        "--tune-threshold",
        action="store_true",
        help="pick the confidence threshold with the best F1 on the synthetic val scenes",
    )
    pick.add_argument(
        "--threshold",
        type=float,
        default=None,
        help="read at this confidence threshold (one of 0.2, 0.25, ... 0.9) instead of the card's: a fresh cycle's "
        "card holds train's --confidence, so this compares it with the shipped card as served",
    )
    e.add_argument("--write-card", action="store_true", help="store the metrics (and threshold) in the card")
    e.add_argument(
        "--second-emotion-side",
        type=int,
        default=None,
        help="also read each found face's emotion from the photo letterboxed to this side and blend the "
        "two (0: one read); default: as the card says",
    )
    e.add_argument(
        "--large-face-side",
        type=int,
        default=None,
        help="also read the photo letterboxed to this (smaller) side and add the large faces only it finds "
        "(0: one read); default: as the card says",
    )
    e.add_argument(
        "--face-check-passes",
        type=int,
        default=None,
        help="check each face found with MTCNN's ONet, which also moves its box, this many times (0: no check); "
        "default: as the card says",
    )
    e.add_argument(
        "--face-reread-sides",
        type=int,
        nargs="+",
        default=None,
        help="also read each face found from the photo cut around it, once for each of these face sides in "
        "pixels (the cut scaled so the face is that side), and blend those reads into its own (0: no reread); "
        "default: as the card says",
    )
    e.add_argument(
        "--face-reread-context",
        type=float,
        default=None,
        help="with --face-reread-sides: the reread's cut is this many times the face's longer side (default 3)",
    )
    e.add_argument(
        "--val-scene-seed",
        type=int,
        default=None,
        help="draw the val scenes with this seed, to pick serving options on scenes other than the card's "
        "(default: the card's scenes)",
    )
    e.add_argument(
        "--more-scene-draws",
        type=int,
        default=0,
        help="also read this many further draws of the val scenes (the seeds after the first draw's) and report "
        "the emotion accuracy of each and their mean",
    )
    e.add_argument("--scenes-only", action="store_true", help="skip the photos and the timing (and MTCNN's detection)")
    e.add_argument("--no-mtcnn", action="store_true", help="photos with manifest boxes only, no MTCNN timing")
    a = sub.add_parser("average", help="average the weights of cycles that continue one another (oldest first)")
    a.add_argument("cycles", nargs="+", help="each cycle's .keras file, its card beside it")
    a.add_argument("--out", required=True, help="folder for the averaged yolo3.keras, its card and LiteRT file")
    c = sub.add_parser("calibrate", help="print MTCNN's median box on FER crops (scenes.CROP_TO_FACE)")
    c.add_argument("--fer-dir", default=str(fer_dir()))
    return parser.parse_args(argv)


def main(argv=None):
    args = parse(sys.argv[1:] if argv is None else argv)
    if args.command == "calibrate":
        from training.yolo3 import evaluate

        print("CROP_TO_FACE =", tuple(round(float(v), 3) for v in evaluate.calibrate_crop_box(Path(args.fer_dir))))
    elif args.command == "average":
        from training.yolo3 import average

        average.run(args)
    elif args.command == "pretrain":
        from training.yolo3 import pretrain

        pretrain.pretrain(args)
    elif args.command == "evaluate":
        # Timings are per core: pin the math libraries to one thread before they load.
        for var in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS"):
            os.environ.setdefault(var, "1")
        from training.yolo3 import evaluate

        evaluate.run(args)
    else:
        from training.yolo3 import train

        if args.pretrain_epochs:
            from training.yolo3 import pretrain

            folder = Path(args.checkpoint_dir) / "backbone"
            if not (folder / pretrain.WEIGHTS).exists():
                pretrain.pretrain(
                    parse(
                        [
                            "pretrain",
                            "--epochs",
                            str(args.pretrain_epochs),
                            "--width",
                            str(args.width),
                            "--seed",
                            str(args.seed),
                            "--fer-dir",
                            args.fer_dir,
                            "--checkpoint-dir",
                            str(folder),
                        ]
                    )
                )
            args.backbone = str(folder / pretrain.WEIGHTS)
        train.train(args)


if __name__ == "__main__":
    main()
