"""training/gpu_train.sh rehearsed on CPU with tiny settings: the one script a lent GPU runs, end to end.

On the device it runs Keras on JAX from the carried wheels; here it runs this environment's Keras (the script keeps a
KERAS_BACKEND it is given), on 256 faces and 32 scenes, so that what comes back is proven: seven files, each model
loadable and described by a card that serving's parser accepts.
"""

import os
import subprocess
import sys
import tarfile

import keras
import pytest

from moodlens.modelcard import read_card
from training.data import REPO_ROOT, fer_dir

pytestmark = pytest.mark.training

MODELS = ("inception-resnet", "mobilenetv2", "yolo3")


@pytest.fixture(scope="module")
def returned(tmp_path_factory):
    work, out = tmp_path_factory.mktemp("work"), tmp_path_factory.mktemp("out")
    env = {
        **os.environ,
        "PYTHON": sys.executable,
        "KERAS_BACKEND": keras.backend.backend(),
        "WORK": str(work),
        "FER_DIR": str(fer_dir()),
        "LIMIT": "256",
        "SCENES": "32",
    }
    run = subprocess.run(
        ["bash", "training/gpu_train.sh", "8", str(out)], cwd=REPO_ROOT, env=env, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return out


def test_the_call_returns_seven_files_the_device_can_hand_back(returned):
    names = sorted(path.name for path in returned.iterdir())
    assert names == sorted([*(f"{m}.keras" for m in MODELS), *(f"{m}.json" for m in MODELS), "logs.tar.gz"])
    assert all(path.stat().st_size < 16 * 2**20 for path in returned.iterdir())  # the device's limit per file


@pytest.mark.parametrize("name", MODELS)
def test_each_model_loads_and_its_card_records_the_run(returned, name):
    card = read_card(returned / f"{name}.json")
    assert card.name == name
    keras.saving.load_model(returned / f"{name}.keras", compile=False)
    assert "3 models trained side by side" in card.raw["training"]["hardware"]


def test_the_logs_hold_each_models_training(returned):
    with tarfile.open(returned / "logs.tar.gz") as logs:
        members = {member.name: logs.extractfile(member).read().decode() for member in logs if member.isfile()}
    assert set(members) == {f"logs/{m}.log" for m in MODELS}
    assert all("Epoch 1/" in text for text in members.values())
