"""compose.yaml's firebase profile: the app in firebase mode against the emulators' image, used over HTTP with a
user of the Auth emulator."""

import os
import secrets

import pytest

from tests.container.helpers import HEALTHY_TIMEOUT_S, Api, container, wait_until_answers
from tests.support.history import auth_emulator_call
from tests.support.local_server import free_port

pytestmark = pytest.mark.e2e

PROJECT = "demo-moodlens"


@pytest.fixture
def stack(engine, app_image, emulators_image, tmp_path):
    project = f"moodlens-test-{os.getpid()}-{secrets.token_hex(3)}"
    ports = {name: free_port() for name in ("app", "auth", "firestore", "storage")}
    env = {
        "MOODLENS_FIREBASE_PORT": str(ports["app"]),
        "MOODLENS_AUTH_PORT": str(ports["auth"]),
        "MOODLENS_FIRESTORE_PORT": str(ports["firestore"]),
        "MOODLENS_STORAGE_PORT": str(ports["storage"]),
    }
    compose = ("compose", "-p", project, "--profile", "firebase")
    log = tmp_path / "compose.log"
    try:
        container(*compose, "up", "-d", "emulators", "app-firebase", env=env, log=log, timeout=1800)
        yield {"api": Api(f"http://127.0.0.1:{ports['app']}"), "auth": f"127.0.0.1:{ports['auth']}"}
    finally:
        container(*compose, "down", "-v", env=env, log=log, check=False, timeout=300)


def test_firebase_mode_round_trip(stack, photos_dir):
    api = stack["api"]
    wait_until_answers(f"http://{stack['auth']}/emulator/v1/projects/{PROJECT}/config")
    # Healthy as the image's check says: every model answers.
    seconds = wait_until_answers(f"{api.base_url}/models_api", HEALTHY_TIMEOUT_S)
    print(f"firebase app answering {seconds:.0f} s after its emulators")

    config = api.ok("GET", "auth_config_api")
    assert config["mode"] == "firebase" and config["firebase"]["projectId"] == PROJECT
    api.check_models(photos_dir)

    email = f"u{secrets.token_hex(4)}@example.com"
    signup = {"email": email, "password": "correct horse battery", "returnSecureToken": True}
    user = auth_emulator_call(stack["auth"], "accounts:signUp", signup)
    token = user["idToken"]
    assert api.history_ids(token) == []
    record_id = api.upload(photos_dir, token)
    assert api.history_ids(token) == [record_id]
    api.check_record(token, record_id)
    api.delete(token, record_id)
    assert api.history_ids(token) == []
    # A token the Auth emulator never issued is refused.
    assert api.call("GET", "history_api", token + "x").status_code == 401
