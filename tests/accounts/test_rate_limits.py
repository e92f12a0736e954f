"""Sign-in and sign-up floods are refused (HTTP 429, Retry-After, JSON) before any password is hashed."""

import pytest

from moodlens.accounts.limits import RateLimited, RateLimiter
from moodlens.app import create_app
from moodlens.settings import get_settings

pytestmark = pytest.mark.unit

LIMITED = {"error": "too many attempts, try again later", "code": "rate_limited"}
PASSWORD = "long enough password"


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_a_sliding_window_per_key():
    clock = Clock()
    limiter = RateLimiter(3, 10, clock)
    for _ in range(3):
        limiter.hit("a")
    with pytest.raises(RateLimited) as refused:
        limiter.hit("a")
    assert refused.value.retry_after_s == 10
    limiter.hit("b")  # another key has its own window
    clock.now += 10.5
    limiter.hit("a")


def test_the_keys_kept_are_bounded(monkeypatch):
    monkeypatch.setattr(RateLimiter, "MAX_KEYS", 100)
    limiter = RateLimiter(1, 60)
    for i in range(1000):
        limiter.hit(f"made-up-{i}")
    assert len(limiter._events) == 100


def sign_in(client, email, password, address="203.0.113.7"):
    return client.post(
        "/auth_signin_api", json={"email": email, "password": password}, environ_base={"REMOTE_ADDR": address}
    )


def test_sign_up_flood_from_one_address(local, client):
    replies = [
        client.post(
            "/auth_signup_api",
            json={"email": f"bulk{i}@example.com", "password": PASSWORD},
            environ_base={"REMOTE_ADDR": "203.0.113.9"},
        )
        for i in range(12)
    ]
    assert [reply.status_code for reply in replies] == [200] * 10 + [429] * 2
    assert replies[-1].get_json() == LIMITED and 0 < int(replies[-1].headers["Retry-After"]) <= 600
    with local.store.connect() as conn:
        assert conn.execute("SELECT COUNT(*) FROM users").fetchone()[0] == 10
    # Another address is not held back by this one.
    other = client.post(
        "/auth_signup_api",
        json={"email": "someone@example.com", "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "198.51.100.1"},
    )
    assert other.status_code == 200


def test_sign_in_flood_from_one_address_leaves_the_rest_of_the_api_alone(local, client):
    statuses = [sign_in(client, f"nobody{i}@example.com", "wrong password").status_code for i in range(32)]
    assert statuses == [401] * 30 + [429] * 2
    assert client.get("/auth_config_api").status_code == 200
    assert client.get("/models_api").status_code == 200


def test_wrong_passwords_for_one_account_lock_it_for_a_while_from_any_address(local, client):
    client.post("/auth_signup_api", json={"email": "target@example.com", "password": PASSWORD})
    for i in range(10):
        assert sign_in(client, "target@example.com", f"guess number {i}", f"198.51.100.{i}").status_code == 401
    refused = sign_in(client, "Target@example.com", PASSWORD, "192.0.2.1")
    assert (refused.status_code, refused.get_json()) == (429, LIMITED)
    assert "Retry-After" in refused.headers


@pytest.fixture
def behind_one_proxy(monkeypatch, local):
    monkeypatch.setenv("MOODLENS_TRUSTED_PROXY_HOPS", "1")
    get_settings.cache_clear()
    yield create_app().test_client()
    monkeypatch.undo()
    get_settings.cache_clear()


def test_behind_a_trusted_proxy_each_client_address_has_its_own_limit(behind_one_proxy):
    """32 sign-ins through one proxy (one REMOTE_ADDR), from 32 clients: past the per-address limit of 30 only if
    the proxy's address counted."""
    statuses = [
        behind_one_proxy.post(
            "/auth_signin_api",
            json={"email": f"nobody{i}@example.com", "password": "wrong password"},
            headers={"X-Forwarded-For": f"203.0.113.{i}"},
            environ_base={"REMOTE_ADDR": "127.0.0.1"},
        ).status_code
        for i in range(32)
    ]
    assert statuses == [401] * 32
