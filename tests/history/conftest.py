"""History fixtures: the real emulators (session), each backend, signed-up users, the one-process server app."""
import os
import secrets
from types import SimpleNamespace

import pytest

import history_emulators as emulators
from config import Settings
from history import backend as backend_module
from history_helpers import firebase_settings, firebase_user


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
    return backend_module.build(firebase_settings(emulator_hosts))


@pytest.fixture
def local_backend(tmp_path):
    return backend_module.build(Settings(data_dir=tmp_path / "data"))


@pytest.fixture(params=["local", "firebase"])
def active(request):
    """Each test using this runs once per implementation, with that backend serving the endpoints."""
    chosen = request.getfixturevalue(f"{request.param}_backend")
    backend_module.use(chosen)
    yield SimpleNamespace(name=request.param, backend=chosen, store=chosen.store,
                          hosts=request.getfixturevalue("emulator_hosts") if request.param == "firebase" else None)
    backend_module.use(None)


@pytest.fixture(scope="session")
def client():
    import server

    return server.create_app().test_client()


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
