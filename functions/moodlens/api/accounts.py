"""The account endpoints: how the pages sign in, and local accounts' sign-up and sign-in."""

import flask

from moodlens import services
from moodlens.accounts.errors import AccountError
from moodlens.accounts.limits import RateLimited
from moodlens.accounts.local import LocalAccounts
from moodlens.api.http import ApiError, http_endpoint, parse_error, read_json_object
from moodlens.settings import Settings


@http_endpoint("GET")
def auth_config_api(request: flask.Request, settings: Settings) -> dict:
    """Tells the pages how to sign in: {"mode": "local"} or {"mode": "firebase", "firebase": <web config>}."""
    return services.get(settings).client_config


@http_endpoint("POST")
def auth_signup_api(request: flask.Request, settings: Settings) -> dict:
    """Local accounts only: {"email", "password"} -> {"token", "uid", "email", "expires_at"}."""
    accounts, email, password = _local_request(request, settings)
    return _answer(lambda: accounts.sign_up(email, password, _client(request)))


@http_endpoint("POST")
def auth_signin_api(request: flask.Request, settings: Settings) -> dict:
    accounts, email, password = _local_request(request, settings)
    return _answer(lambda: accounts.sign_in(email, password, _client(request)))


def _local_request(request: flask.Request, settings: Settings) -> tuple[LocalAccounts, str, str]:
    active = services.get(settings).auth
    if not isinstance(active, LocalAccounts):
        raise ApiError(404, "local_accounts_off", "local accounts are off: sign in with Firebase")
    payload = read_json_object(request, settings)
    if not isinstance(payload.get("email"), str) or not isinstance(payload.get("password"), str):
        raise parse_error()
    return active, payload["email"], payload["password"]


def _client(request: flask.Request) -> str:
    # The peer's address. Behind a proxy it is the proxy's, which then limits everyone together: the self-host
    # guide's proxy and Cloud Run pass X-Forwarded-For, which is only trusted where that proxy is known (not here).
    return request.remote_addr or "unknown"


def _answer(action) -> dict:
    try:
        return action()
    except AccountError as error:
        raise ApiError(error.status, error.code, error.message) from None
    except RateLimited as limited:
        raise ApiError(
            429, "rate_limited", "too many attempts, try again later", {"Retry-After": str(limited.retry_after_s)}
        ) from None
