"""Runs the peer library `fer` for side-by-side benchmarks. Run it with the fer venv's python
(made by scripts/peer_fer.sh), never the project's: it imports nothing from the project.

    var/bench/fer-venv/bin/python bench/fer_worker.py cold PHOTO
        -> {"faces": N, "peak_rss_mb": M}
    var/bench/fer-venv/bin/python bench/fer_worker.py warm --rounds R PHOTO [PHOTO ...]
        -> {"ms": {photo: [t1..tR]}, "faces": {photo: N}, "rss_mb": M}

stdout carries exactly one JSON line; all logging (TensorFlow, absl, fer, warnings) goes to stderr.
Errors: message on stderr, non-zero exit.

Configuration: `FER(mtcnn=True)` with fer's defaults otherwise. In fer 25.10.3 the default is
use_tflite=True, i.e. the bundled quantized `emotion_model_quantized.tflite` run by tf.lite.Interpreter
(documented by fer as its fast path, "7x faster inference"), with facenet-pytorch's MTCNN
(keep_all=True) as face detector on the CPU. Images are given to fer as BGR arrays decoded with
cv2.imdecode, as fer expects.
"""

import argparse
import json
import os
import resource
import sys
import time

# Quiet TensorFlow's C++ and absl logging before anything imports it (they write to stderr anyway).
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("ABSL_MIN_LOG_LEVEL", "3")

# Keep stdout for the single JSON line: anything else (Python or C code printing to fd 1) goes to
# stderr until we write the result through the saved descriptor.
_RESULT_FD = os.dup(1)
sys.stdout.flush()
os.dup2(2, 1)


def _emit(obj):
    os.write(_RESULT_FD, (json.dumps(obj) + "\n").encode())


def _build():
    import warnings

    warnings.filterwarnings("ignore")  # pkg_resources / tf.lite deprecation notices
    from fer.fer import FER

    return FER(mtcnn=True)


def _detect(detector, data: bytes, cv2, np):
    img = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)  # BGR
    if img is None:
        raise ValueError("cannot decode image")
    return detector.detect_emotions(img)


def _read(path):
    with open(path, "rb") as f:
        return f.read()


def cold(photo):
    data = _read(photo)
    detector = _build()
    import cv2
    import numpy as np

    faces = _detect(detector, data, cv2, np)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB on Linux
    _emit({"faces": len(faces), "peak_rss_mb": round(peak, 1)})


def _vmrss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024  # kB -> MB
    raise RuntimeError("VmRSS not found in /proc/self/status")


def warm(rounds, photos):
    if rounds < 1:
        raise ValueError("--rounds must be >= 1")
    blobs = {p: _read(p) for p in photos}
    detector = _build()
    import cv2
    import numpy as np

    faces = {}
    for p, data in blobs.items():  # warm-up: every photo once, untimed
        faces[p] = len(_detect(detector, data, cv2, np))
    ms = {p: [] for p in blobs}
    for _ in range(rounds):
        for p, data in blobs.items():
            t0 = time.perf_counter()
            result = _detect(detector, data, cv2, np)
            ms[p].append(round((time.perf_counter() - t0) * 1000, 3))
            faces[p] = len(result)
    _emit({"ms": ms, "faces": faces, "rss_mb": round(_vmrss_mb(), 1)})


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="mode", required=True)
    c = sub.add_parser("cold", help="build FER(mtcnn=True), run one photo, exit")
    c.add_argument("photo")
    w = sub.add_parser("warm", help="build once, warm up, then time R rounds over the photos")
    w.add_argument("--rounds", type=int, default=5)
    w.add_argument("photos", nargs="+")
    args = ap.parse_args(argv)
    try:
        if args.mode == "cold":
            cold(args.photo)
        else:
            warm(args.rounds, args.photos)
    except Exception as e:  # noqa: BLE001 - report any failure as a clean non-zero exit
        print(f"fer_worker: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
