#!/usr/bin/env bash
# Installs the peer library `fer` (justinshenk/fer) in its OWN virtual environment, for side-by-side
# benchmarks only: var/bench/fer-venv (var/ is git-ignored). Never a project dependency.
#
# `pip install fer` pulls ~8 GB (full TensorFlow + CUDA PyTorch), so fer goes in with --no-deps and we add
# only what `from fer.fer import FER; FER(mtcnn=True)` really imports (read from fer 25.10.3's source):
#   fer/fer.py   : cv2, numpy, pkg_resources, requests, tensorflow (unconditional top-level import;
#                  the default use_tflite=True runs `tf.lite.Interpreter`, so fer needs TensorFlow itself,
#                  not tflite_runtime / ai_edge_litert), facenet_pytorch + torch when mtcnn=True
#   fer/utils.py : cv2, numpy, requests, PIL
#   facenet_pytorch (import): torch, numpy, PIL, requests, tqdm, cv2 (optional), torchvision (see below)
#   (fer/classes.py -> pandas, moviepy is NOT imported by fer.fer; matplotlib/ffmpeg-python unused.)
#
# Idempotent: a stamp file inside the venv records the exact spec; when it matches, nothing is done.
# Prints nothing on success except pip's errors. Usage: bash scripts/peer_fer.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/var/bench/fer-venv"
STAMP="$VENV/.peer-fer-installed"
PY="${PYTHON:-python3.11}"

# Top-level packages, each pinned exactly:
TOP=(
  # PyTorch for facenet-pytorch's MTCNN. 2.13.0 is the CPU build that pip takes from this machine's disk
  # (/opt/wheels); any other version/range pulls a multi-GB CUDA build.
  "torch==2.13.0"
  # fer.fer imports tensorflow at module top and runs its default quantized .tflite model through
  # tf.lite.Interpreter; the CPU-only wheel is the smallest real TensorFlow (brings keras, h5py, ...).
  "tensorflow-cpu==2.21.0"
  # cv2: image decoding + fer's preprocessing. FER() reads cv2.data.haarcascades even with mtcnn=True;
  # OpenCV 5.x dropped the Haar files, so stay on 4.x. Headless: no GUI libs needed.
  "opencv-python-headless==4.14.0.94"
  # pkg_resources (fer.fer resolves its model files with it); removed from setuptools >= 81.
  "setuptools==80.9.0"
  # fer.fer / fer.utils import requests (tfserving / URL images; imported even when unused).
  "requests==2.34.2"
  # fer.utils and facenet_pytorch's detect_face import PIL.
  "pillow==13.0.0"
  # facenet_pytorch/__init__ -> inception_resnet_v1 -> utils/download.py imports tqdm at module level.
  "tqdm==4.70.1"
  # numpy: everything above; pinned so the resolver cannot drift.
  "numpy==2.4.6"
)
# Exact versions of the transitive dependencies torch / tensorflow-cpu / requests pull in (what pip picked
# on 2026-12-02), so a re-run builds the same environment.
CONSTRAINTS="absl-py==2.5.1
astunparse==1.6.3
certifi==2026.10.19.post1
charset-normalizer==3.5.3
filelock==4.3.1
flatbuffers==25.12.19
fsspec==2026.9.0
gast==0.7.0
google-pasta==0.2.0
grpcio==1.85.3
h5py==3.14.0
idna==3.20
Jinja2==3.1.6
keras==3.15.1
libclang==18.1.1
markdown-it-py==4.3.0
MarkupSafe==3.0.4
mdurl==0.1.2
ml_dtypes==0.7.0
mpmath==1.3.0
namex==0.1.0
networkx==3.6.1
opt_einsum==3.4.0
optree==0.20.0
packaging==26.4
protobuf==7.36.2
Pygments==2.21.0
rich==15.0.0
six==1.17.0
sympy==1.14.0
termcolor==3.3.0
typing_extensions==4.16.0
urllib3==2.8.0
wheel==0.48.0
wrapt==2.5.2"
# Installed with --no-deps (their declared requirements would pull full tensorflow, CUDA torch,
# torchvision, pandas, moviepy, matplotlib, numpy<2, Pillow<10.3 ...):
NODEPS=(
  # the peer itself; ships fer/data/emotion_model_quantized.tflite (+ .hdf5 and a Haar cascade).
  "fer==25.10.3"
  # MTCNN face detector used by FER(mtcnn=True); ships its pnet/rnet/onet weights (no download).
  "facenet-pytorch==2.6.0"
)

SPEC="$PY|${TOP[*]}|${NODEPS[*]}|$CONSTRAINTS|torchvision-shim-v3"
if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$SPEC" && -x "$VENV/bin/python" ]]; then
  exit 0
fi

# Not (fully) done: start from a clean venv so a half-finished earlier run cannot leak in.
rm -rf "$VENV"
mkdir -p "$(dirname "$VENV")"
"$PY" -m venv "$VENV"
PIP=("$VENV/bin/python" -m pip -qq --disable-pip-version-check)

cfile="$(mktemp)"
trap 'rm -f "$cfile"' EXIT
printf '%s\n' "$CONSTRAINTS" >"$cfile"
"${PIP[@]}" install -c "$cfile" "${TOP[@]}"
"${PIP[@]}" install --no-deps "${NODEPS[@]}"

# torchvision: facenet_pytorch/models/utils/detect_face.py does
#   from torchvision.transforms import functional as F   (F.to_tensor, only in extract_face)
#   from torchvision.ops.boxes import batched_nms        (MTCNN.detect)
# No torchvision wheel works beside the CPU torch 2.13.0: PyPI's x86_64 torchvision (e.g. 0.28.0) is a
# CUDA build whose _C.so needs libtorch_cuda.so, so `import torchvision` dies with
# "operator torchvision::nms does not exist"; the working pairing (torch 2.14.1 + torchvision 0.29.1)
# is a 5.5 GB CUDA build. So we install a tiny local stand-in that provides just those two functions in
# plain torch, with torchvision's semantics (suppress IoU > threshold, highest score first, coordinate
# offset trick for batching; results sorted by decreasing score).
SITE="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
TV="$SITE/torchvision"
mkdir -p "$TV/ops" "$TV/transforms"
cat >"$TV/__init__.py" <<'EOF'
"""Minimal CPU stand-in for torchvision, written by scripts/peer_fer.sh for facenet-pytorch's MTCNN.
Provides only ops.boxes.batched_nms / ops.nms and transforms.functional.to_tensor. NOT the real torchvision."""
__version__ = "0.0.0+peer-fer-shim"
from . import ops, transforms  # noqa: E402,F401
EOF
cat >"$TV/ops/__init__.py" <<'EOF'
from .boxes import batched_nms, nms  # noqa: F401
EOF
cat >"$TV/ops/boxes.py" <<'EOF'
import numpy as np
import torch


def nms(boxes: torch.Tensor, scores: torch.Tensor, iou_threshold: float) -> torch.Tensor:
    """Same result as torchvision.ops.nms (CPU kernel): indices kept, by decreasing score."""
    if boxes.numel() == 0:
        return torch.empty((0,), dtype=torch.int64, device=boxes.device)
    order = torch.argsort(scores, descending=True, stable=True)
    b = boxes[order].detach().cpu().numpy()  # same dtype as torchvision (float32 here)
    x1, y1, x2, y2 = b[:, 0], b[:, 1], b[:, 2], b[:, 3]
    areas = (x2 - x1) * (y2 - y1)
    n = b.shape[0]
    removed = np.zeros(n, dtype=bool)
    keep = []
    for s in range(0, n, 1024):  # IoU rows in blocks: bounded memory, no per-box torch calls
        e = min(n, s + 1024)
        inter = (np.clip(np.minimum(x2[s:e, None], x2) - np.maximum(x1[s:e, None], x1), 0, None)
                 * np.clip(np.minimum(y2[s:e, None], y2) - np.maximum(y1[s:e, None], y1), 0, None))
        over = inter / (areas[s:e, None] + areas - inter) > iou_threshold
        for i in range(s, e):
            if removed[i]:
                continue
            keep.append(i)
            row = over[i - s]
            row[: i + 1] = False
            removed |= row
    return order[torch.as_tensor(keep, dtype=torch.int64, device=order.device)]


def batched_nms(boxes, scores, idxs, iou_threshold):
    """Same as torchvision.ops.batched_nms (coordinate trick): NMS independently per idxs category."""
    if boxes.numel() == 0:
        return torch.empty((0,), dtype=torch.int64, device=boxes.device)
    max_coordinate = boxes.max()
    offsets = idxs.to(boxes) * (max_coordinate + torch.tensor(1).to(boxes))
    return nms(boxes + offsets[:, None], scores, iou_threshold)
EOF
cat >"$TV/transforms/__init__.py" <<'EOF'
from . import functional  # noqa: F401
EOF
cat >"$TV/transforms/functional.py" <<'EOF'
import numpy as np
import torch


def to_tensor(pic):
    """torchvision.transforms.functional.to_tensor for HWC numpy arrays / PIL images."""
    arr = np.asarray(pic)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    t = torch.from_numpy(np.ascontiguousarray(arr.transpose(2, 0, 1)))
    if t.dtype == torch.uint8:
        return t.float().div(255)
    return t
EOF

printf '%s' "$SPEC" >"$STAMP"
