"""The container's own scripts outside a container: backup and restore of a data folder, the health check's image,
gunicorn's settings. Fast, no engine needed."""

import io
import runpy
import subprocess
import sys

import pytest
from PIL import Image

from moodlens.history.local_store import LocalStore
from tests.container.helpers import REPO_ROOT
from tests.support.history import FACES, photo_jpeg

pytestmark = pytest.mark.unit

CONTAINER = REPO_ROOT / "deploy" / "container"


def backup_cli(action, data_dir, stdin=None):
    return subprocess.run(
        [sys.executable, str(CONTAINER / "backup.py"), action, "--data", str(data_dir)],
        input=stdin,
        capture_output=True,
        timeout=60,
        check=True,
    )


def save(store, owner, record_id):
    image = store.put_image(owner, record_id, "original", photo_jpeg(), "image/jpeg")
    store.insert_record(
        {
            "id": record_id,
            "owner": owner,
            "created": 1,
            "img_name": "a.jpg",
            "model": "mobilenetv2",
            "faces": FACES,
            "thumbnail": None,
            "images": {"original": image},
        }
    )


def record_ids(data_dir):
    import sqlite3

    with sqlite3.connect(data_dir / "moodlens.sqlite3") as conn:
        return sorted(row[0] for row in conn.execute("SELECT id FROM predictions"))


def test_backup_restores_records_images_and_secret(tmp_path):
    data = tmp_path / "data"
    store = LocalStore(data)
    save(store, "alice", "r1")
    (data / "auth-secret").write_text("s" * 48)
    archive = backup_cli("create", data).stdout

    listing = backup_cli("check", tmp_path, archive).stdout.decode()
    assert "predictions: 1 rows" in listing and "images: 1 files" in listing and "secret: yes" in listing

    save(store, "alice", "r2")
    (data / "auth-secret").write_text("t" * 48)
    backup_cli("restore", data, archive)
    assert record_ids(data) == ["r1"]
    assert LocalStore(data).get_image("alice", "r1", "original") == photo_jpeg()
    assert not (data / "images" / "alice" / "r2").exists()
    assert (data / "auth-secret").read_text() == "s" * 48


def test_restore_refuses_a_foreign_archive(tmp_path):
    import tarfile

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        info = tarfile.TarInfo("../etc/passwd")
        tar.addfile(info, io.BytesIO(b""))
    data = tmp_path / "data"
    LocalStore(data)
    result = subprocess.run(
        [sys.executable, str(CONTAINER / "backup.py"), "restore", "--data", str(data)],
        input=buffer.getvalue(),
        capture_output=True,
        timeout=60,
    )
    assert result.returncode != 0 and b"not a Moodlens backup" in result.stderr
    assert (data / "moodlens.sqlite3").exists()


def test_health_check_image_is_a_valid_png():
    health = runpy.run_path(str(CONTAINER / "healthcheck.py"))
    with Image.open(io.BytesIO(health["grey_png"]())) as image:
        image.load()
        assert image.format == "PNG" and image.size == (64, 48) and image.mode == "RGB"


def test_gunicorn_settings(monkeypatch):
    monkeypatch.setenv("PORT", "9191")
    monkeypatch.setenv("WEB_CONCURRENCY", "2")
    config = runpy.run_path(str(CONTAINER.parent / "gunicorn.conf.py"))
    assert config["bind"] == "0.0.0.0:9191" and config["workers"] == 2
    assert config["max_requests"] > 0 and config["max_requests_jitter"] > 0
    assert config["preload_app"] is False and callable(config["post_worker_init"])
