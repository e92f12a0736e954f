#!/usr/bin/env bash
# One-shot yolo3 training on a GPU machine (the device tool), Keras on JAX.
# Run from the repo root there:  bash training/gpu_yolo3.sh [TRAIN_SECONDS]
# Needs: .whl/ with the keras wheel and its missing deps (namex, optree) when the machine has no keras;
# FER2013 at ../shared/data/fer2013 or, failing that, .carry/fer2013/*.npz.xz (python -m training.pack_fer).
# Writes to $OUT (default /tmp/yolo3_gpu): yolo3.keras, yolo3.json (card, scene metrics filled in), train.log,
# evaluate.log; copy the model and card to functions/models to ship them. Checkpoints stay on the machine
# (/tmp/yolo3_ckpt): the run is one sitting.
set -euo pipefail
budget=${1:-240}
out=${OUT:-/tmp/yolo3_gpu}
py=${PYTHON:-python3}
scenes=${SCENES:-32000}
mkdir -p "$out"
export KERAS_BACKEND=jax PYTHONUNBUFFERED=1 XLA_PYTHON_CLIENT_PREALLOCATE=false
# functions/: training imports the serving package, moodlens, for the card and the readers it evaluates through.
export PYTHONPATH="$PWD/functions${PYTHONPATH:+:$PYTHONPATH}"
if compgen -G ".whl/*.whl" >/dev/null && ! "$py" -c "import keras" 2>/dev/null; then
  "$py" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
  export PYTHONPATH=/tmp/site:$PYTHONPATH
fi
fer=${FER_DIR:-../shared/data/fer2013}
if [ ! -f "$fer/train.npz" ]; then
  fer=/tmp/fer2013
  "$py" -m training.pack_fer --unpack "$fer"
fi
export MOODLENS_HARDWARE="${MOODLENS_HARDWARE:-1x $(nvidia-smi --query-gpu=name --format=csv,noheader | head -1), 16 CPU cores, Keras on JAX, float32}"
"$py" -c "import jax, keras; print('jax', jax.__version__, jax.devices(), 'keras', keras.__version__)"
# A fifth of the budget pretrains the backbone on whole faces, the rest trains the detector from it.
"$py" -m training.yolo3 pretrain --time-budget $((budget / 5)) --epochs 1000 --batch 256 \
  --fer-dir "$fer" --checkpoint-dir /tmp/yolo3_backbone 2>&1 | tee "$out/pretrain.log"
"$py" -m training.yolo3 train --time-budget $((budget - budget / 5)) --epochs 1000 --scenes "$scenes" --val-scenes 500 \
  --size 256 --max-face 216 --batch 64 --lr 2e-3 --workers 15 --loader-threads 6 --serve-size 416 --redraw-scenes --bald-heads 0.3 \
  --backbone /tmp/yolo3_backbone/backbone.keras \
  --fer-dir "$fer" --out "$out" --checkpoint-dir /tmp/yolo3_ckpt 2>&1 | tee "$out/train.log"
"$py" -m training.yolo3 evaluate --card "$out/yolo3.json" --fer-dir "$fer" --scenes-only --tune-threshold --second-emotion-side 512 \
  --write-card 2>&1 | tee "$out/evaluate.log"
ls -la "$out"
