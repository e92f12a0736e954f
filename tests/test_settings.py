"""moodlens.settings: defaults that work on a developer machine, and every bad value refused with its variable."""

import pytest

from moodlens.app import create_app
from moodlens.settings import Settings, SettingsError, get_settings

pytestmark = pytest.mark.unit


def test_defaults_are_valid_and_local():
    settings = Settings.from_env({})
    assert settings.history_backend == "local" and settings.detect_max_side == 1280
    assert (settings.models_dir / "inception-resnet.json").is_file()


def test_values_are_read_and_converted():
    settings = Settings.from_env(
        {"MOODLENS_DETECT_MAX_SIDE": "640", "MOODLENS_MIN_FACE_CONFIDENCE": "0.8", "FIRESTORE_EMULATOR_HOST": "h:1"}
    )
    assert (settings.detect_max_side, settings.min_face_confidence) == (640, 0.8)
    assert settings.firestore_emulator_host == "h:1"


@pytest.mark.parametrize(
    "environ, variable",
    [
        ({"MOODLENS_HISTORY_BACKEND": "postgres"}, "MOODLENS_HISTORY_BACKEND"),
        ({"MOODLENS_AUTH_SECRET": "x" * 31}, "MOODLENS_AUTH_SECRET"),
        ({"MOODLENS_DETECT_MAX_SIDE": "big"}, "MOODLENS_DETECT_MAX_SIDE"),
        ({"MOODLENS_DETECT_MAX_SIDE": "0"}, "MOODLENS_DETECT_MAX_SIDE"),
        ({"MOODLENS_MIN_FACE_CONFIDENCE": "1.5"}, "MOODLENS_MIN_FACE_CONFIDENCE"),
        ({"MOODLENS_JPEG_QUALITY": "100"}, "MOODLENS_JPEG_QUALITY"),
        ({"MOODLENS_FIREBASE_WEB_CONFIG": "[1]"}, "MOODLENS_FIREBASE_WEB_CONFIG"),
        ({"MOODLENS_TRUSTED_PROXY_HOPS": "-1"}, "MOODLENS_TRUSTED_PROXY_HOPS"),
        # Cloud Run (and so Cloud Functions 2nd gen) sets K_SERVICE; its disk is in memory and per instance.
        ({"K_SERVICE": "predict-api"}, "MOODLENS_HISTORY_BACKEND"),
        ({"K_SERVICE": "predict-api", "MOODLENS_HISTORY_BACKEND": "firebase"}, "MOODLENS_FIREBASE_WEB_CONFIG"),
    ],
)
def test_bad_values_are_refused_naming_their_variable(environ, variable):
    with pytest.raises(SettingsError) as refused:
        Settings.from_env(environ)
    assert refused.value.variable == variable


def test_a_long_enough_secret_and_firebase_on_cloud_run_are_accepted():
    Settings.from_env({"MOODLENS_AUTH_SECRET": "x" * 32})
    Settings.from_env(
        {"K_SERVICE": "s", "MOODLENS_HISTORY_BACKEND": "firebase", "MOODLENS_FIREBASE_WEB_CONFIG": '{"apiKey": "k"}'}
    )


def test_the_pages_reach_the_auth_emulator_where_the_browser_can():
    assert Settings.from_env({"FIREBASE_AUTH_EMULATOR_HOST": "emulators:9099"}).auth_emulator_url == (
        "http://emulators:9099"
    )
    public = {
        "FIREBASE_AUTH_EMULATOR_HOST": "emulators:9099",
        "MOODLENS_AUTH_EMULATOR_PUBLIC_URL": "http://127.0.0.1:9",
    }
    assert Settings.from_env(public).auth_emulator_url == "http://127.0.0.1:9"
    assert Settings.from_env({}).auth_emulator_url is None


@pytest.fixture
def misconfigured(monkeypatch):
    monkeypatch.setenv("MOODLENS_HISTORY_BACKEND", "postgres")
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


@pytest.mark.parametrize("method, path", [("POST", "/predict_api"), ("GET", "/history_api"), ("GET", "/models_api")])
def test_endpoints_answer_503_naming_the_setting(misconfigured, method, path):
    reply = create_app().test_client().open(path, method=method, json={})
    assert reply.status_code == 503
    assert reply.get_json()["code"] == "misconfigured"
    assert "MOODLENS_HISTORY_BACKEND" in reply.get_json()["error"]
