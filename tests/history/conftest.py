"""History fixtures: the real emulators (session), each backend, signed-up users, the one-process server app."""
import io
import json
import os
import secrets
import urllib.request
from types import SimpleNamespace

import pytest
from PIL import Image, ImageDraw

from config import Settings
from history import backend as backend_module

import history_emulators as emulators


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


def firebase_settings(hosts, storage_host=None, firestore_host=None):
    return Settings(history_backend="firebase", firebase_project=emulators.PROJECT,
                    firestore_emulator_host=firestore_host or hosts.firestore.host,
                    auth_emulator_host=hosts.auth.host,
                    storage_emulator_host=f"http://{storage_host or hosts.storage.host}")


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


def firebase_user(auth_host, email=None, password="correct horse battery"):
    """A new account on the Auth emulator, signed in: its uid and ID token."""
    email = email or f"u{secrets.token_hex(6)}@example.com"
    body = auth_emulator_call(auth_host, "accounts:signUp",
                              {"email": email, "password": password, "returnSecureToken": True})
    return SimpleNamespace(uid=body["localId"], token=body["idToken"], email=email)


def auth_emulator_call(host, method, payload):
    request = urllib.request.Request(f"http://{host}/identitytoolkit.googleapis.com/v1/{method}?key=any",
                                     data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def bearer(user):
    return {"Authorization": f"Bearer {user.token}"}


def photo_jpeg(width=320, height=240, color="teal"):
    """A small real JPEG; saved records need images, not faces."""
    img = Image.new("RGB", (width, height), color)
    ImageDraw.Draw(img).ellipse((width // 4, height // 4, 3 * width // 4, 3 * height // 4), fill="wheat")
    out = io.BytesIO()
    img.save(out, format="JPEG")
    return out.getvalue()


FACES = [{"box": [80, 60, 160, 120], "confidence": 0.99,
          "prediction": [{"emotion": e, "probability": p} for e, p in
                         zip(["happy", "neutral", "surprise", "sad", "angry", "fear", "disgust"],
                             [0.7, 0.1, 0.08, 0.05, 0.04, 0.02, 0.01])]}]
