"""What gcloud uploads from a folder: scripts/deploy's reading of .gcloudignore (used by --stage and the source
check) against fixed expectations, and against gcloud's own listing where the Cloud SDK is installed."""

import importlib.util
import os
import shutil
import subprocess

import pytest

from tests.deploy.conftest import REPO_ROOT

pytestmark = pytest.mark.deploy

# Each file made in the test folder, and whether functions/.gcloudignore lets it be uploaded.
FILES = {
    "main.py": True,
    "requirements.txt": True,
    "moodlens/__init__.py": True,
    "moodlens/palette.json": True,
    "moodlens/predict/data/table.json": True,  # only the folder's own data/ is left out
    "models/a.tflite": True,
    "models/mtcnn/pnet.tflite": True,
    "models/a.json": True,
    "models/a.keras": False,  # training's file; serving runs the .tflite
    ".gcloudignore": False,
    "moodlens/__pycache__/settings.cpython-311.pyc": False,
    "stray.pyc": False,
    "tests/test_main.py": False,
    "moodlens/tests/test_x.py": False,
    ".venv/lib/site.py": False,
    "var/data/history.sqlite": False,
    "data/cache.bin": False,
    "debug.log": False,
    "moodlens/notes.tmp": False,
    ".DS_Store": False,
    "moodlens.egg-info/PKG-INFO": False,
    ".pytest_cache/v/cache": False,
}


@pytest.fixture(scope="module")
def deploy_module():
    spec = importlib.util.spec_from_file_location("moodlens_deploy", REPO_ROOT / "deploy" / "deploy.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "functions"
    for name in FILES:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("x")
    shutil.copy(REPO_ROOT / "functions" / ".gcloudignore", root / ".gcloudignore")
    return root


def test_the_upload_set_keeps_code_and_models_only(deploy_module, folder):
    uploaded = {path.as_posix() for path in deploy_module.upload_set(folder)}
    assert uploaded == {name for name, kept in FILES.items() if kept}


def test_it_agrees_with_gcloud(deploy_module, folder, tmp_path):
    gcloud = shutil.which("gcloud")
    if gcloud is None:
        pytest.skip("no Cloud SDK here")
    # A configuration folder of its own: no account, no user settings; the listing calls no Google service.
    env = dict(os.environ, CLOUDSDK_CONFIG=str(tmp_path / "gcloud-config"), CLOUDSDK_CORE_DISABLE_PROMPTS="1")
    result = subprocess.run(
        [gcloud, "meta", "list-files-for-upload", str(folder)], env=env, capture_output=True, text=True, timeout=180
    )
    assert result.returncode == 0, result.stderr
    listed = {line.strip() for line in result.stdout.splitlines() if line.strip()}
    assert listed == {path.as_posix() for path in deploy_module.upload_set(folder)}


def test_the_repository_folder_agrees_with_gcloud_too(deploy_module, tmp_path):
    gcloud = shutil.which("gcloud")
    if gcloud is None:
        pytest.skip("no Cloud SDK here")
    env = dict(os.environ, CLOUDSDK_CONFIG=str(tmp_path / "gcloud-config"), CLOUDSDK_CORE_DISABLE_PROMPTS="1")
    source = REPO_ROOT / "functions"
    result = subprocess.run(
        [gcloud, "meta", "list-files-for-upload", str(source)], env=env, capture_output=True, text=True, timeout=180
    )
    assert result.returncode == 0, result.stderr
    listed = {line.strip() for line in result.stdout.splitlines() if line.strip()}
    assert listed == {path.as_posix() for path in deploy_module.upload_set(source)}
