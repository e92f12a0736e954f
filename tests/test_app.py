"""moodlens.app: every endpoint at its path, the pages at /, JSON for everything else."""

import pytest

import main
from moodlens import app as server_app

pytestmark = pytest.mark.function

# The deployed names (firebase.json's rewrites, clients' URLs): fixed by the contract.
ENDPOINT_NAMES = [
    "predict_api",
    "predict_upload_api",
    "predict_img_only_api",
    "models_api",
    "history_api",
    "auth_config_api",
    "auth_signup_api",
    "auth_signin_api",
]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    hosting = tmp_path_factory.mktemp("hosting")
    (hosting / "index.html").write_text("<h1>Moodlens</h1>")
    (hosting / "app.js").write_text("console.log('hi')")
    return server_app.create_app(hosting).test_client()


def test_every_function_of_main_has_its_path(site):
    for name in ENDPOINT_NAMES:
        assert callable(getattr(main, name)), name
        reply = site.options(f"/{name}", headers={"Origin": "http://localhost:5000"})
        assert reply.status_code in (200, 204), name
        assert reply.headers["Access-Control-Allow-Origin"] in ("*", "http://localhost:5000")


def test_predict_path_reaches_its_function(site):
    reply = site.post("/predict_api", data=b"not json")
    assert reply.status_code == 400
    assert reply.get_json() == {"error": "failed to parse json, invalid format", "code": "invalid_json"}


def test_hosting_is_served_at_the_root(site):
    assert site.get("/").data == b"<h1>Moodlens</h1>"
    assert site.get("/app.js").data == b"console.log('hi')"


def test_unknown_paths_answer_json(site):
    reply = site.get("/no/such/page")
    assert reply.status_code == 404 and reply.get_json() == {"error": "not found", "code": "not_found"}
    assert site.get("/../functions/main.py").status_code == 404
