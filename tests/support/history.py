"""Helpers of the history and account tests (plain functions and data; the fixtures are in tests/conftest.py)."""

import io
import json
import secrets
import urllib.request
from types import SimpleNamespace

from PIL import Image, ImageDraw

from moodlens.settings import Settings
from tests.support import emulators


def firebase_settings(hosts, storage_host=None, firestore_host=None):
    return Settings(
        history_backend="firebase",
        firebase_project=emulators.PROJECT,
        firestore_emulator_host=firestore_host or hosts.firestore.host,
        auth_emulator_host=hosts.auth.host,
        storage_emulator_host=f"http://{storage_host or hosts.storage.host}",
    )


def firebase_user(auth_host, email=None, password="correct horse battery"):
    """A new account on the Auth emulator, signed in: its uid and ID token."""
    email = email or f"u{secrets.token_hex(6)}@example.com"
    body = auth_emulator_call(
        auth_host, "accounts:signUp", {"email": email, "password": password, "returnSecureToken": True}
    )
    return SimpleNamespace(uid=body["localId"], token=body["idToken"], email=email)


def auth_emulator_call(host, method, payload):
    request = urllib.request.Request(
        f"http://{host}/identitytoolkit.googleapis.com/v1/{method}?key=any",
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
    )
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


FACES = [
    {
        "box": [80, 60, 160, 120],
        "confidence": 0.99,
        "prediction": [
            {"emotion": e, "probability": p}
            for e, p in zip(
                ["happy", "neutral", "surprise", "sad", "angry", "fear", "disgust"],
                [0.7, 0.1, 0.08, 0.05, 0.04, 0.02, 0.01],
            )
        ],
    }
]
