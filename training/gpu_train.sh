#!/usr/bin/env bash
# Train all three models from scratch on one lent GPU, in one call: inception-resnet, mobilenetv2 and yolo3 side by side
# (Keras on JAX, host-side augmentation). Prepare here first with `bash training/gpu_prepare.sh` (it prints the call).
#
# Usage, from the repo root:  bash training/gpu_train.sh SECONDS OUTPUT_DIR
#   SECONDS: training time of each model (they share the GPU); the whole call takes about SECONDS + 90.
#   OUTPUT_DIR gets the three .keras files and their cards, and logs.tar.gz: seven files, which is what the device
#   hands back (at most 8). Here, copy the models and cards into functions/models, then convert and measure them as
#   served: python -m training.convert NAME; python -m training.evaluate NAME --write-card;
#   python -m training.yolo3 evaluate --tune-threshold --second-emotion-side 0 --large-face-side 256
#   --face-check-passes 2 --face-reread-sides 40 48 56 --write-card (the shipped reads, face check and reread, which a
#   freshly trained card lacks).
# Optional environment: PYTHON (default python3), WORK (scratch, default /tmp/moodlens-gpu), FER_DIR (FER2013 .npz
# files already unpacked), and for a rehearsal on CPU LIMIT (training faces) and SCENES (yolo3 scenes an epoch):
# tests/training/test_gpu_script.py runs it so.
set -uo pipefail
budget=${1:?seconds of training for each model}
out=${2:?output folder}
py=${PYTHON:-python3}
work=${WORK:-/tmp/moodlens-gpu}
scenes=${SCENES:-8000}
limit=(${LIMIT:+--limit "$LIMIT"})
mkdir -p "$out" "$work/logs"
if compgen -G ".whl/*.whl" >/dev/null; then # the device's image has JAX but no Keras
  "$py" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$work/site" .whl/*.whl ||
    exit 1
  export PYTHONPATH="$work/site"
fi
# functions/: training imports the serving package, moodlens, for the card and the classifier it measures through.
export PYTHONPATH="${PYTHONPATH:+$PYTHONPATH:}$PWD/functions:$PWD"
export PYTHONUNBUFFERED=1 KERAS_BACKEND=${KERAS_BACKEND:-jax} XLA_PYTHON_CLIENT_PREALLOCATE=false
export MOODLENS_FER_DIR="${FER_DIR:-$work/fer2013}"
gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)
export MOODLENS_HARDWARE="1x ${gpu:-CPU (rehearsal)}, 3 models trained side by side, Keras on $KERAS_BACKEND"
"$py" -c "import keras; print('keras', keras.__version__, 'on', keras.backend.backend(), keras.ops.ones(1).device)" || exit 1
[ -n "${FER_DIR:-}" ] || "$py" -m training.pack_fer --unpack "$MOODLENS_FER_DIR" || exit 1

models="$work/models"
for name in inception-resnet mobilenetv2; do
  "$py" -m training.train "$name" --time-budget "$budget" --dtype-policy mixed_bfloat16 "${limit[@]}" --out "$models" \
    --checkpoint-dir "$work/checkpoints/$name" >"$work/logs/$name.log" 2>&1 &
done
# A fifth of yolo3's time pretrains its backbone on whole faces; the detector trains from it.
(
  "$py" -m training.yolo3 pretrain --time-budget $((budget / 5)) --epochs 1000 --batch 256 "${limit[@]}" \
    --fer-dir "$MOODLENS_FER_DIR" --checkpoint-dir "$work/checkpoints/yolo3-backbone" &&
    "$py" -m training.yolo3 train --time-budget $((budget - budget / 5)) --epochs 1000 --scenes "$scenes" \
      --val-scenes $((scenes < 200 ? scenes : 200)) --size 256 --max-face 216 --batch 64 --lr 2e-3 --workers 8 --loader-threads 4 \
      --serve-size 416 --redraw-scenes --photo-backgrounds 0.35 --bald-heads 0.3 \
      --backbone "$work/checkpoints/yolo3-backbone/backbone.keras" \
      --fer-dir "$MOODLENS_FER_DIR" --out "$models" --checkpoint-dir "$work/checkpoints/yolo3"
) >"$work/logs/yolo3.log" 2>&1 &
failed=0
for job in $(jobs -p); do wait "$job" || failed=1; done

for log in "$work"/logs/*.log; do
  echo "== $(basename "$log")" && tail -n 3 "$log"
done
cp "$models"/*.keras "$models"/*.json "$out"/ 2>/dev/null
tar -czf "$out/logs.tar.gz" -C "$work" logs
ls -la "$out"
exit $failed
