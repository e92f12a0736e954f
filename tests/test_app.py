"""moodlens.app: every endpoint at its path, the pages at /, JSON for everything else."""

import json
import re

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


def test_unknown_paths_get_the_not_found_page_where_there_is_one(tmp_path):
    (tmp_path / "404.html").write_text("<h1>Page not found</h1>")
    client = server_app.create_app(tmp_path).test_client()
    for path in ("/no/such/page", "/src/upload.js", "/app.js.map"):
        reply = client.get(path)
        assert reply.status_code == 404 and reply.mimetype == "text/html", path
        assert reply.data == b"<h1>Page not found</h1>"
        assert "frame-ancestors 'none'" in reply.headers["Content-Security-Policy"]
    # The API keeps its JSON errors.
    assert client.get("/history_api").is_json


def test_pages_carry_security_headers(site):
    reply = site.get("/")
    policy = reply.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    assert reply.headers["X-Frame-Options"] == "DENY"
    assert reply.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert reply.headers["Permissions-Policy"].startswith("camera=()")


def test_only_the_camera_page_may_use_the_camera(tmp_path):
    (tmp_path / "camera.html").write_text("<h1>camera</h1>")
    reply = server_app.create_app(tmp_path).test_client().get("/camera.html")
    assert reply.headers["Permissions-Policy"].startswith("camera=(self)")


def test_page_sources_and_source_maps_are_not_served(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "upload.js").write_text("// source")
    (tmp_path / "app.js.map").write_text("{}")
    client = server_app.create_app(tmp_path).test_client()
    assert client.get("/src/upload.js").status_code == 404
    assert client.get("/app.js.map").status_code == 404


def test_the_home_pages_example_photos_are_served_and_licensed(repo_root):
    hosting = repo_root / "hosting"
    photos = re.findall(r'(?:src|data-example)="(examples/[^"]+)"', (hosting / "index.html").read_text())
    assert len(photos) >= 4, "two examples or more, each with its thumbnail"
    licences = (hosting / "examples" / "LICENSES.md").read_text()
    client = server_app.create_app(hosting).test_client()
    for path in photos:
        reply = client.get(f"/{path}")
        assert reply.status_code == 200 and reply.mimetype == "image/jpeg", path
        assert len(reply.data) < 150_000, path
        assert path.removeprefix("examples/") in licences, f"{path}: no source and licence in LICENSES.md"


def test_api_answers_are_not_sniffed_or_framed(site):
    reply = site.post("/predict_api", data=b"not json")
    assert reply.headers["X-Content-Type-Options"] == "nosniff" and reply.headers["X-Frame-Options"] == "DENY"


def test_firebase_hosting_sends_the_same_security_headers(repo_root):
    """firebase.json's headers for Firebase Hosting equal what the local server sends (Hosting: last match wins)."""
    rules = json.loads((repo_root / "firebase.json").read_text())["hosting"]["headers"]
    sent = {rule["source"]: {h["key"]: h["value"] for h in rule["headers"]} for rule in rules}
    assert sent["**"] == server_app.page_headers("index.html")
    assert sent["/camera.html"] == {"Permissions-Policy": server_app.page_headers("camera.html")["Permissions-Policy"]}
    assert [rule["source"] for rule in rules] == ["**", "/camera.html"]
