#!/usr/bin/env bash
# Train both classifiers side by side on one lent GPU (Keras on JAX), then evaluate them there.
# Needs the carried folders .whl (keras + namex + optree wheels for Python 3.12) and .carry/fer2013 (training.pack_fer).
# Usage on the device, from the repo root: bash training/gpu_classifiers.sh SECONDS_PER_MODEL OUTPUT_DIR
# (the models, cards written through moodlens.modelcard, land in OUTPUT_DIR; copy them to functions/models to ship)
set -uo pipefail
budget=${1:?seconds of training per model}
out=${2:?output folder}
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
# functions/: training imports the serving package, moodlens, for the card and the classifier it evaluates through.
export PYTHONPATH=/tmp/site:$PWD/functions PYTHONUNBUFFERED=1 MOODLENS_FER_DIR=/tmp/fer2013
export KERAS_BACKEND=jax XLA_PYTHON_CLIENT_PREALLOCATE=false
export MOODLENS_HARDWARE="1x $(nvidia-smi --query-gpu=name --format=csv,noheader | head -1), Keras on JAX"
python3 -c "import keras, jax; print(keras.__version__, jax.__version__, jax.devices()); keras.ops.ones(2)" || {
  export KERAS_BACKEND=torch MOODLENS_HARDWARE="${MOODLENS_HARDWARE/JAX/PyTorch}"; }
python3 -m training.pack_fer --unpack /tmp/fer2013
mkdir -p "$out"
for name in inception-resnet mobilenetv2; do
  python3 -m training.train "$name" --time-budget "$budget" --out "$out" \
    --checkpoint-dir "/tmp/ckpt/$name" >"$out/train-$name.log" 2>&1 &
done
wait
tail -n 4 "$out"/train-*.log
for name in inception-resnet mobilenetv2; do
  python3 -m training.evaluate "$name" --models-dir "$out" 2>&1 | tail -n 12
done
