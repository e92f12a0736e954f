"""Requests a careless or hostile client sends: each gets a clear JSON error and changes nothing."""

import json

import pytest

from moodlens import services
from tests.support.predict_contract import PARSE_ERROR

pytestmark = pytest.mark.function

TOKEN_ERROR = {"error": "invalid or expired token, sign in again", "code": "invalid_token"}


@pytest.fixture
def user(active, new_user):
    return new_user()


def history_ids(client, user):
    reply = client.get("/history_api", headers={"Authorization": f"Bearer {user.token}"})
    return [item["id"] for item in reply.get_json()["items"]]


@pytest.mark.parametrize(
    "header",
    ["{token}", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer,{token}", "Token {token}", "Bearer {token} extra"],
    ids=["no-scheme", "bearer-alone", "bearer-space", "basic", "bearer-comma", "other-scheme", "two-words"],
)
@pytest.mark.parametrize("endpoint", ["predict_upload_api", "predict_img_only_api"])
def test_a_malformed_authorization_header_is_refused_not_anonymous(client, user, header, endpoint, photos_dir):
    value = header.format(token=user.token)
    reply = client.post(f"/{endpoint}", json={"image": "aGVsbG8="}, headers={"Authorization": value})
    assert (reply.status_code, reply.get_json()) == (401, TOKEN_ERROR)
    assert history_ids(client, user) == []


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer"])
def test_history_refuses_a_malformed_authorization_header(client, user, header):
    reply = client.get("/history_api", headers={"Authorization": header})
    assert (reply.status_code, reply.get_json()) == (401, TOKEN_ERROR)


def _with_lone_surrogate(body: dict, field: str) -> str:
    # json.dumps would escape a surrogate it was given; a client's raw JSON can spell one out.
    return json.dumps(body)[:-1] + f', "{field}": "\\ud800"}}'


@pytest.mark.parametrize("path", ["/auth_signup_api", "/auth_signin_api"])
def test_a_lone_surrogate_in_an_email_is_a_parse_error(local_backend, client, path):
    services.use(local_backend)
    try:
        raw = _with_lone_surrogate({"email": "a@example.com", "password": "long enough password"}, "email")
        reply = client.post(path, data=raw, content_type="application/json")
        assert (reply.status_code, reply.get_json()) == (400, PARSE_ERROR)
    finally:
        services.use(None)


def test_a_lone_surrogate_in_an_image_name_is_a_parse_error(client, user):
    raw = _with_lone_surrogate({"image": "aGVsbG8="}, "img_name")
    reply = client.post(
        "/predict_upload_api",
        data=raw,
        content_type="application/json",
        headers={"Authorization": f"Bearer {user.token}"},
    )
    assert (reply.status_code, reply.get_json()) == (400, PARSE_ERROR)
    assert history_ids(client, user) == []


@pytest.mark.parametrize("path", ["/models_api", "/auth_config_api"])
def test_head_works_where_get_does(client, path):
    reply = client.head(path)
    assert reply.status_code == 200 and reply.data == b""
    assert reply.headers["Content-Type"] == "application/json"
