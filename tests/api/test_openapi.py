"""The API's description (functions/moodlens/api/openapi.json) against the endpoints it describes.

It must be valid OpenAPI 3.0, name every endpoint and nothing else, and every answer below, good or bad, must be one
it describes: a status it lists for that operation, the headers it requires, and a body its schema accepts. The
fuzz test (test_fuzz.py) then drives a real server from the same file.
"""

import contextlib
import json
import secrets
from pathlib import Path

import pytest
from jsonschema.exceptions import best_match
from openapi_schema_validator import OAS30Validator, oas30_format_checker
from openapi_spec_validator import validate
from PIL import Image

from moodlens import services
from moodlens.accounts.limits import RateLimited
from moodlens.api import ENDPOINTS
from moodlens.app import OPENAPI_PATH
from tests.support import images

pytestmark = pytest.mark.function

SPEC = json.loads(Path(OPENAPI_PATH).read_text())
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
# A 32x32 grey PNG: decodes, reaches the model, has no face.
BLANK_PNG = images.b64(images.encode(Image.new("RGB", (32, 32), (120, 120, 120))))


def resolve(node: dict) -> dict:
    """Follows one local `$ref` (`#/components/...`) of the spec."""
    if "$ref" not in node:
        return node
    target: dict = SPEC
    for part in node["$ref"].removeprefix("#/").split("/"):
        target = target[part]
    return target


def matches(reply, response: dict, what: str):
    """Asserts that `reply` (a Flask test response) is the spec's `response`; returns the JSON body, if any."""
    response = resolve(response)
    for name, header in response.get("headers", {}).items():
        header = resolve(header)
        value = reply.headers.get(name)
        if value is None:
            assert not header.get("required"), f"{what}: required header {name} missing"
            continue
        schema = header["schema"]
        typed = int(value) if schema.get("type") == "integer" else value
        assert OAS30Validator(schema).is_valid(typed), f"{what}: header {name}: {value!r} breaks {schema}"
    content = response.get("content")
    if content is None:
        assert reply.data == b"", f"{what}: the spec says no body, got {reply.data[:200]!r}"
        return None
    assert reply.mimetype == "application/json", f"{what}: {reply.mimetype}"
    body = json.loads(reply.data)
    schema = {**content["application/json"]["schema"], "components": SPEC["components"]}
    error = best_match(OAS30Validator(schema, format_checker=oas30_format_checker).iter_errors(body))
    assert error is None, f"{what}: {'/'.join(map(str, error.absolute_path))}: {error.message}\n{str(body)[:500]}"
    return body


def check(reply, path: str, method: str, status: int | None = None):
    """Asserts that the answer to `method path` is one the spec lists for that operation (and is `status`, when
    given); returns its JSON body (None for an answer without one)."""
    what = f"{method} {path} -> {reply.status_code}"
    if status is not None:
        assert reply.status_code == status, f"{what}, expected {status}: {reply.data[:300]!r}"
    responses = SPEC["paths"][path][method.lower()]["responses"]
    assert str(reply.status_code) in responses, f"{what}: status not in the spec: {reply.data[:300]!r}"
    return matches(reply, responses[str(reply.status_code)], what)


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def local(local_backend):
    """The local backend (temporary folder) serving the endpoints, for tests that need no particular backend."""
    services.use(local_backend)
    yield local_backend
    services.use(None)


def test_the_spec_is_valid_openapi_3_0():
    validate(SPEC)
    assert SPEC["openapi"].startswith("3.0.")


def test_the_spec_describes_every_endpoint_and_nothing_else():
    assert {path.removeprefix("/") for path in SPEC["paths"]} == set(ENDPOINTS)


def test_operation_ids_are_unique():
    ids = [op["operationId"] for item in SPEC["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))


def test_the_app_serves_the_spec(client):
    reply = client.get("/openapi.json")
    assert reply.status_code == 200 and reply.mimetype == "application/json"
    assert reply.get_json() == SPEC
    # Like every answer: never sniffed or framed, readable by API tools on other origins.
    assert (reply.headers["X-Content-Type-Options"], reply.headers["X-Frame-Options"]) == ("nosniff", "DENY")
    assert reply.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("name", ENDPOINTS)
def test_the_spec_lists_exactly_the_methods_each_endpoint_takes(local, client, name):
    path = f"/{name}"
    declared = {method.upper() for method in SPEC["paths"][path]}
    taken = {method for method in METHODS if client.open(path, method=method).status_code != 405}
    assert taken == declared


def method_not_allowed(reply, what: str) -> None:
    """The spec's description: a method an endpoint does not take is a 405 `method_not_allowed` naming, in `Allow`,
    the methods it does take."""
    assert reply.status_code == 405, what
    body = matches(reply, SPEC["components"]["responses"]["MethodNotAllowed"], what)
    assert body == {"error": "method not allowed", "code": "method_not_allowed"}


@pytest.mark.parametrize("name", ENDPOINTS)
@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_other_methods_answer_the_specs_405(local, client, name, method):
    method_not_allowed(client.open(f"/{name}", method=method), f"{method} /{name}")


@pytest.mark.parametrize("method", ["TRACE", "QUERY"])
def test_methods_no_endpoint_takes_answer_the_specs_405(client, method):
    """Methods outside the app's routes (answered by Flask, not by the endpoint) must say the same."""
    method_not_allowed(client.open("/models_api", method=method), f"{method} /models_api")


@pytest.mark.parametrize("name", ENDPOINTS)
def test_preflight_matches_the_spec(local, client, name):
    headers = {"Origin": "http://localhost:5000", "Access-Control-Request-Method": "POST"}
    check(client.options(f"/{name}", headers=headers), f"/{name}", "OPTIONS", 204)


PREDICT = ["predict_api", "predict_upload_api", "predict_img_only_api"]


@pytest.mark.parametrize("name", PREDICT)
def test_predict_answers_match_the_spec(client, photos_dir, name):
    path = f"/{name}"
    photo = images.b64((photos_dir / images.FACES_PHOTO).read_bytes())
    found = check(client.post(path, json={"image": photo}), path, "POST", 200)
    assert found["found"] is True and len(found["faces"]) == 3
    # Three sharp faces of 60-86 px: none is a weak read.
    assert [face["quality"]["weak"] for face in found["faces"]] == [False, False, False]
    none = check(client.post(path, json={"image": BLANK_PNG, "model": "mobilenetv2"}), path, "POST", 200)
    assert none["found"] is False and none["model"] == "mobilenetv2"
    bad = [
        (b"not json", 400, "invalid_json"),
        (b"[]", 400, "invalid_json"),
        (b'{"image": 5}', 400, "invalid_json"),
        (b'{"image": "not base64 !!"}', 400, "invalid_image"),
        (json.dumps({"image": images.b64(b"hello")}).encode(), 400, "invalid_image"),
        (b'{"image": "' + b"A" * (16 * 1024 * 1024) + b'"}', 413, "too_large"),
    ]
    for body, status, code in bad:
        reply = client.post(path, data=body, content_type="application/json")
        assert check(reply, path, "POST", status)["code"] == code


@pytest.mark.parametrize("name", ["predict_upload_api", "predict_img_only_api"])
def test_a_bad_token_on_an_upload_matches_the_spec(client, name):
    for header in ({"Authorization": "Basic dXNlcjpwYXNz"}, bearer("not-a-token")):
        reply = client.post(f"/{name}", json={"image": BLANK_PNG}, headers=header)
        assert check(reply, f"/{name}", "POST", 401)["code"] == "invalid_token"


def test_models_and_auth_config_match_the_spec(local, client):
    models = check(client.get("/models_api"), "/models_api", "GET", 200)
    assert models["default"] in {model["name"] for model in models["models"]}
    check(client.head("/models_api"), "/models_api", "HEAD", 200)
    assert check(client.get("/auth_config_api"), "/auth_config_api", "GET", 200) == {"mode": "local"}
    check(client.head("/auth_config_api"), "/auth_config_api", "HEAD", 200)


def test_signed_in_uploads_and_history_match_the_spec(active, client, new_user, photos_dir):
    user = new_user()
    auth = bearer(user.token)
    photo = images.b64((photos_dir / images.FACES_PHOTO).read_bytes())
    upload = {"image": photo, "img_name": "three faces"}
    saved = check(client.post("/predict_upload_api", json=upload, headers=auth), "/predict_upload_api", "POST", 200)
    blank = {"image": BLANK_PNG, "img_name": 7}
    frame = check(client.post("/predict_img_only_api", json=blank, headers=auth), "/predict_img_only_api", "POST", 200)
    assert saved["found"] is True and frame["found"] is False and saved["id"] != frame["id"]

    def history(method, status, **query):
        reply = client.open("/history_api", method=method, query_string=query, headers=auth)
        return check(reply, "/history_api", method, status)

    page = history("GET", 200, limit=1)
    assert [item["id"] for item in page["items"]] == [frame["id"]] and page["next_cursor"]
    rest = history("GET", 200, limit=500, cursor=page["next_cursor"])
    assert [item["id"] for item in rest["items"]] == [saved["id"]] and rest["next_cursor"] is None
    record = history("GET", 200, id=saved["id"])
    assert record["img_name"] == "three faces" and len(record["faces"]) == 3
    assert history("GET", 200, id=frame["id"])["img_name"] == ""
    history("HEAD", 200)
    history("HEAD", 404, id="0" * 24)
    assert history("GET", 400, limit="ten")["code"] == "invalid_limit"
    assert history("GET", 400, cursor="not a cursor")["code"] == "invalid_cursor"
    assert history("GET", 404, id="../etc/passwd")["code"] == "not_found"
    assert history("DELETE", 200, id=saved["id"]) == {"deleted": 1}
    assert history("DELETE", 404, id=saved["id"])["code"] == "not_found"
    assert history("DELETE", 404)["code"] == "not_found"
    assert history("DELETE", 400, all="yes")["code"] == "invalid_query"
    assert history("DELETE", 200, all="true") == {"deleted": 1}
    for headers, code in (({}, "sign_in_required"), (bearer("forged"), "invalid_token")):
        for method in ("GET", "DELETE"):
            reply = client.open("/history_api", method=method, headers=headers)
            assert check(reply, "/history_api", method, 401)["code"] == code
        check(client.head("/history_api", headers=headers), "/history_api", "HEAD", 401)


def test_accounts_match_the_spec(active, client, new_user):
    config = check(client.get("/auth_config_api"), "/auth_config_api", "GET", 200)
    assert config["mode"] == active.name
    user = new_user()
    if active.name == "local":
        _local_accounts_match_the_spec(active, client, user)
    else:
        for path in ("/auth_signup_api", "/auth_signin_api"):
            reply = client.post(path, json={"email": user.email, "password": "correct horse battery"})
            assert check(reply, path, "POST", 404)["code"] == "local_accounts_off"
        reply = client.post("/auth_signout_api", headers=bearer(user.token))
        assert check(reply, "/auth_signout_api", "POST", 404)["code"] == "local_accounts_off"
    for headers, code in (({}, "sign_in_required"), (bearer("forged"), "invalid_token")):
        reply = client.delete("/account_api", headers=headers)
        assert check(reply, "/account_api", "DELETE", 401)["code"] == code
    deleted = check(client.delete("/account_api", headers=bearer(user.token)), "/account_api", "DELETE", 200)
    assert deleted == {"deleted": 0, "account_deleted": True}
    reply = client.delete("/account_api", headers=bearer(user.token))
    assert check(reply, "/account_api", "DELETE", 401)["code"] == "invalid_token"


def _local_accounts_match_the_spec(active, client, user):
    password = "correct horse battery"

    def post(path, status, body=None, **kwargs):
        return check(client.post(path, json=body, **kwargs), path, "POST", status)

    session = post("/auth_signin_api", 200, {"email": user.email, "password": password})
    assert session["uid"] == user.uid
    assert post("/auth_signup_api", 409, {"email": user.email, "password": password})["code"] == "email_taken"
    assert post("/auth_signup_api", 400, {"email": "nobody", "password": password})["code"] == "invalid_email"
    short = {"email": "new@example.com", "password": "short"}
    assert post("/auth_signup_api", 400, short)["code"] == "invalid_password"
    for path in ("/auth_signup_api", "/auth_signin_api"):
        assert post(path, 400, {"email": user.email})["code"] == "invalid_json"
        reply = client.post(path, data=b"{", content_type="application/json")
        assert check(reply, path, "POST", 400)["code"] == "invalid_json"
    # The longest password the spec allows is taken like any other.
    longest = {"email": "longest@example.com", "password": secrets.token_hex(512)}
    assert post("/auth_signup_api", 200, longest)["email"] == "longest@example.com"
    wrong = {"email": user.email, "password": "not the password at all"}
    assert post("/auth_signin_api", 401, wrong)["code"] == "wrong_credentials"
    signed_out = post("/auth_signout_api", 200, headers=bearer(session["token"]))
    assert signed_out == {"signed_out": True}
    assert post("/auth_signout_api", 401)["code"] == "sign_in_required"
    assert post("/auth_signout_api", 401, headers={"Authorization": "Bearer"})["code"] == "invalid_token"
    # Past the limits (filled here rather than by dozens of password hashes): 429 with Retry-After.
    for limiter in (active.backend.auth.sign_ups_per_address, active.backend.auth.sign_ins_per_address):
        with contextlib.suppress(RateLimited):
            while True:
                limiter.hit("127.0.0.1")  # the test client's address
    fresh = {"email": "another@example.com", "password": password}
    assert post("/auth_signup_api", 429, fresh)["code"] == "rate_limited"
    assert post("/auth_signin_api", 429, {"email": user.email, "password": password})["code"] == "rate_limited"
