"""Fixtures shared by every test folder: the shared photos, the local server, the Firebase emulators and each
history backend. The folders mirror functions/moodlens; levels are markers (unit, function, e2e, training,
deploy) set by each module's `pytestmark`."""

import json
import os
import secrets
from pathlib import Path
from types import SimpleNamespace

import pytest

from moodlens import services
from moodlens.app import create_app
from moodlens.settings import Settings
from tests.support import emulators
from tests.support.history import firebase_settings, firebase_user
from tests.support.local_server import running_server
from training.data import shared_data_dir

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def photos_dir() -> Path:
    return shared_data_dir() / "photos"


@pytest.fixture(scope="session")
def manifest(photos_dir) -> list[dict]:
    return json.loads((photos_dir / "manifest.json").read_text())["images"]


@pytest.fixture(scope="session")
def server_url(tmp_path_factory, repo_root):
    """The local server (scripts/serve: gunicorn + moodlens.app), started once on a free port. It trusts one proxy
    hop, so that each test's visitor can come from an address of its own (tests.support.pages.visitor_headers): the
    sign-up limit per address (tests/accounts/test_rate_limits.py) would otherwise refuse a long session's accounts."""
    with running_server(
        repo_root, tmp_path_factory.mktemp("server") / "server.log", {"MOODLENS_TRUSTED_PROXY_HOPS": "1"}
    ) as url:
        yield url


@pytest.fixture(scope="session")
def emulator_hosts():
    started = []
    saved = {k: os.environ.get(k) for k in ("FIRESTORE_EMULATOR_HOST", "FIREBASE_AUTH_EMULATOR_HOST")}
    try:
        for emulator in (emulators.firestore(), emulators.storage(), emulators.auth()):
            started.append(emulator.start())
        firestore, storage, auth = started
        # The Firestore client and firebase-admin's token check find the emulators through these two.
        os.environ["FIRESTORE_EMULATOR_HOST"] = firestore.host
        os.environ["FIREBASE_AUTH_EMULATOR_HOST"] = auth.host
        yield SimpleNamespace(firestore=firestore, storage=storage, auth=auth)
    finally:
        for emulator in started:
            emulator.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="session")
def firebase_backend(emulator_hosts):
    return services.build(firebase_settings(emulator_hosts))


@pytest.fixture
def local_backend(tmp_path):
    return services.build(Settings(data_dir=tmp_path / "data"))


@pytest.fixture(params=["local", "firebase"])
def active(request):
    """Each test using this runs once per implementation, with that backend serving the endpoints."""
    chosen = request.getfixturevalue(f"{request.param}_backend")
    services.use(chosen)
    yield SimpleNamespace(
        name=request.param,
        backend=chosen,
        store=chosen.store,
        hosts=request.getfixturevalue("emulator_hosts") if request.param == "firebase" else None,
    )
    services.use(None)


@pytest.fixture(scope="session")
def client():
    """Every endpoint in one Flask app, as the local server serves them, without a process."""
    return create_app().test_client()


@pytest.fixture
def new_user(active, client):
    """Makes a fresh account on the active backend; returns its uid and a valid token."""

    def make():
        email, password = f"u{secrets.token_hex(6)}@example.com", "correct horse battery"
        if active.name == "local":
            body = client.post("/auth_signup_api", json={"email": email, "password": password}).get_json()
            return SimpleNamespace(uid=body["uid"], token=body["token"], email=email)
        return firebase_user(active.hosts.auth.host, email, password)

    return make
