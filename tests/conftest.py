"""Shared by every test folder: functions/ on sys.path (as Cloud Functions runs it) and the shared photos."""

import json
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT / "functions"))

from config import settings  # noqa: E402  (needs the path above)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def photos_dir() -> Path:
    return settings.shared_data / "photos"


@pytest.fixture(scope="session")
def manifest(photos_dir) -> list[dict]:
    return json.loads((photos_dir / "manifest.json").read_text())["images"]


def pytest_collection_modifyitems(items):
    # The folder says the level: `pytest -m unit` runs tests/unit only, and so on.
    for item in items:
        level = Path(item.fspath).relative_to(REPO_ROOT / "tests").parts[0]
        if level in ("unit", "function", "e2e", "training"):
            item.add_marker(level)
