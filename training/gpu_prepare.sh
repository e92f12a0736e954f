#!/usr/bin/env bash
# Here, before a lent GPU runs training/gpu_train.sh: put what that machine lacks into the ignored folders the call
# carries, and keep what travels under the device's 64 MiB.
#
#   bash training/gpu_prepare.sh          .carry/fer2013 (FER2013 train and val, xz, 55 MB), .whl (Keras and the
#                                         two packages it needs that the device's Python 3.12 lacks); then untracks
#                                         functions/models (48.6 MB of shipped models, not needed there) for the call
#   bash training/gpu_prepare.sh restore  tracks functions/models again and removes .whl (wheels for the device's
#                                         Python, which this machine's cannot install): run it right after the call,
#                                         before any commit
#
# The call: command "bash training/gpu_train.sh 420 $OUT", carry [".carry", ".whl"], timeout 600 s.
set -euo pipefail
cd "$(dirname "$0")/.."
exclude=.git/info/exclude
models=functions/models
if [ "${1:-}" = restore ]; then
  git reset -q -- "$models"
  rm -rf .whl
  sed -i "\#^/$models/\$#d" "$exclude"
  git status --short -- "$models"
  exit 0
fi
python=${PYTHON:-.venv/bin/python}
[ -f .carry/fer2013/train.npz.xz ] || PYTHONPATH=functions:. "$python" -m training.pack_fer
keras=$("$python" -c "import keras; print(keras.__version__)")
optree=$("$python" -c "import importlib.metadata as m; print(m.version('optree'))")
namex=$("$python" -c "import importlib.metadata as m; print(m.version('namex'))")
rm -rf .whl
"$python" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
  --platform manylinux2014_x86_64 -d .whl "keras==$keras" "namex==$namex" "optree==$optree"
mkdir -p "$(dirname "$exclude")"
grep -qx "/$models/" "$exclude" 2>/dev/null || echo "/$models/" >>"$exclude"
git rm -r -q --cached "$models"
echo "travels: $(git ls-files -z | xargs -0 du -cb | tail -1 | cut -f1) bytes tracked," \
  "$(du -cb .carry .whl | tail -1 | cut -f1) carried (limit 67108864 in all)"
