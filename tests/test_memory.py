"""A large photo's freed memory goes back to the system once its answer is sent (moodlens/memory.py)."""

import pytest

from moodlens import memory
from tests.support import images

pytestmark = pytest.mark.function

LARGE_PHOTO = "deepface_couple.jpg"  # 2280 x 1588


@pytest.fixture
def trims(monkeypatch):
    calls = []
    monkeypatch.setattr(memory, "release_freed_memory", lambda: calls.append("trim"))
    return calls


def test_a_large_photo_is_followed_by_a_trim_after_its_answer(client, photos_dir, trims):
    reply = client.post("/predict_api", json={"image": images.b64((photos_dir / LARGE_PHOTO).read_bytes())})
    assert reply.status_code == 200
    assert trims == []  # not while the caller waits
    reply.close()
    assert trims == ["trim"]


def test_a_camera_sized_photo_is_not(client, photos_dir, trims):
    reply = client.post("/predict_api", json={"image": images.b64((photos_dir / images.FACES_PHOTO).read_bytes())})
    assert reply.status_code == 200
    reply.close()
    assert trims == []


def test_the_trim_runs_on_this_system():
    """Debian's glibc has malloc_trim: the real call is made, not skipped."""
    assert memory._trim is not None
    memory.release_freed_memory()
