"""Local accounts of the embedded default: password hashing, token signing and the signing key on disk."""

import os
import stat
import time
from concurrent.futures import ThreadPoolExecutor

import jwt
import pytest

from moodlens import services
from moodlens.accounts.errors import InvalidToken
from moodlens.accounts.tokens import load_or_create_secret
from moodlens.settings import Settings, SettingsError

pytestmark = pytest.mark.unit


def test_secret_is_generated_once_with_owner_only_mode(tmp_path):
    with ThreadPoolExecutor(max_workers=8) as pool:
        secrets_seen = set(pool.map(lambda _: load_or_create_secret(tmp_path), range(8)))
    assert len(secrets_seen) == 1 and len(secrets_seen.pop()) >= 32
    path = tmp_path / "auth-secret"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["auth-secret"]
    assert load_or_create_secret(tmp_path) == path.read_text().strip()
    assert load_or_create_secret(tmp_path / "other") != path.read_text().strip()


def test_configured_secret_wins_and_short_ones_are_refused(tmp_path):
    built = services.build(Settings(data_dir=tmp_path, auth_secret="s" * 40))
    assert built.auth.signer.secret == "s" * 40 and not (tmp_path / "auth-secret").exists()
    with pytest.raises(SettingsError) as refused:
        Settings(data_dir=tmp_path, auth_secret="short")
    assert refused.value.variable == "MOODLENS_AUTH_SECRET"


def test_sign_up_then_sign_in(local, client):
    up = client.post("/auth_signup_api", json={"email": "Ann@Example.com", "password": "long enough"})
    assert up.status_code == 200
    body = up.get_json()
    assert set(body) == {"token", "uid", "email", "expires_at"}
    assert local.auth.verify(body["token"]) == body["uid"]
    assert body["expires_at"] - time.time() == pytest.approx(Settings().token_ttl_s, abs=60)
    inn = client.post("/auth_signin_api", json={"email": "ann@example.com", "password": "long enough"})
    assert inn.status_code == 200 and inn.get_json()["uid"] == body["uid"]
    with local.store.connect() as conn:
        stored = conn.execute("SELECT password_hash FROM users").fetchone()[0]
    assert stored.startswith("$argon2id$") and "long enough" not in stored


@pytest.mark.parametrize(
    "payload, status",
    [
        ({"email": "not-an-email", "password": "long enough"}, 400),
        ({"email": "a@b.co", "password": "short"}, 400),
        ({"email": "a@b.co", "password": "x" * 2000}, 400),
        ({"email": "a@b.co"}, 400),
        ({"email": ["a@b.co"], "password": "long enough"}, 400),
    ],
)
def test_sign_up_refuses_bad_input(local, client, payload, status):
    response = client.post("/auth_signup_api", json=payload)
    assert response.status_code == status and "error" in response.get_json()


def test_duplicate_email_and_wrong_password(local, client):
    account = {"email": "bo@example.com", "password": "long enough"}
    assert client.post("/auth_signup_api", json=account).status_code == 200
    assert client.post("/auth_signup_api", json=dict(account, email="BO@example.com")).status_code == 409
    for attempt in (
        {"email": "bo@example.com", "password": "wrong password"},
        {"email": "nobody@example.com", "password": "long enough"},
    ):
        response = client.post("/auth_signin_api", json=attempt)
        assert response.status_code == 401
        assert response.get_json() == {"error": "wrong email or password", "code": "wrong_credentials"}


def test_forged_and_tampered_tokens(local, client):
    body = client.post("/auth_signup_api", json={"email": "cy@example.com", "password": "long enough"}).get_json()
    claims = jwt.decode(body["token"], options={"verify_signature": False})
    header, payload, signature = body["token"].split(".")
    other = jwt.encode(dict(claims, sub="someone-else"), "x" * 40, algorithm="HS256").split(".")[1]
    forged = {
        "alg none": jwt.encode(claims, None, algorithm="none"),
        "other key": jwt.encode(claims, "a different secret of enough length!!", algorithm="HS256"),
        "payload swapped": f"{header}.{other}.{signature}",
        "signature flipped": f"{header}.{payload}.{signature[:-2]}{'AB'[signature[-2] == 'A']}{signature[-1]}",
        "no expiry": jwt.encode({k: v for k, v in claims.items() if k != "exp"}, local.auth.signer.secret, "HS256"),
        "wrong issuer": jwt.encode(dict(claims, iss="someone"), local.auth.signer.secret, "HS256"),
        "path uid": jwt.encode(dict(claims, sub="../../etc"), local.auth.signer.secret, "HS256"),
    }
    for name, token in forged.items():
        with pytest.raises(InvalidToken):
            local.auth.verify(token)
        assert client.get("/history_api", headers={"Authorization": f"Bearer {token}"}).status_code == 401, name


def test_firebase_mode_has_no_local_accounts(firebase_backend, client):
    services.use(firebase_backend)
    try:
        for path in ("/auth_signup_api", "/auth_signin_api"):
            response = client.post(path, json={"email": "a@b.co", "password": "long enough"})
            assert response.status_code == 404 and "Firebase" in response.get_json()["error"]
    finally:
        services.use(None)


@pytest.mark.parametrize(
    "password",
    ["password", "12345678", " " * 10, "passwordpassword", "qwertyuiop", "aaaaaaaaaaaa", "iloveyou123", "nine char"],
)
def test_common_or_short_passwords_are_refused(local, client, password):
    response = client.post("/auth_signup_api", json={"email": "pat@example.com", "password": password})
    assert response.status_code == 400 and response.get_json()["code"] == "invalid_password"


def test_a_password_made_of_the_email_is_refused(local, client):
    response = client.post("/auth_signup_api", json={"email": "zanzibar77@example.com", "password": "zanzibar77!"})
    assert response.status_code == 400 and response.get_json()["code"] == "invalid_password"


@pytest.mark.parametrize("email", ["a\x00b@example.com", "ab@exa\x01mple.com", "a b@example.com", "ab@example"])
def test_emails_with_control_characters_or_no_domain_are_refused(local, client, email):
    response = client.post("/auth_signup_api", json={"email": email, "password": "long enough password"})
    assert (response.status_code, response.get_json()["code"]) == (400, "invalid_email")
