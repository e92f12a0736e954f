"""The account endpoints: how the pages sign in, and local accounts' sign-up and sign-in."""

import flask

from moodlens import services
from moodlens.accounts.errors import AccountError, InvalidToken
from moodlens.accounts.limits import RateLimited
from moodlens.accounts.local import LocalAccounts
from moodlens.api.history import delete_everything, require_user
from moodlens.api.http import ApiError, bearer_token, http_endpoint, parse_error, read_json_object, token_error
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


@http_endpoint("POST")
def auth_signout_api(request: flask.Request, settings: Settings) -> dict:
    """Local accounts: revokes the caller's token at once (Firebase's SDK signs out in the browser)."""
    accounts = _local_accounts(settings)
    token = bearer_token(request)
    if token is None:
        raise ApiError(401, "sign_in_required", "sign in first")
    try:
        accounts.sign_out(token)
    except InvalidToken:
        raise token_error() from None
    return {"signed_out": True}


@http_endpoint("DELETE")
def account_api(request: flask.Request, settings: Settings) -> dict:
    """Deletes the caller's account and every prediction and image it saved: {"deleted": <predictions>}."""
    uid = require_user(request, settings)
    active = services.get(settings)
    deleted = delete_everything(active.store, uid)
    active.auth.delete_account(uid)
    return {"deleted": deleted, "account_deleted": True}


def _local_accounts(settings: Settings) -> LocalAccounts:
    active = services.get(settings).auth
    if not isinstance(active, LocalAccounts):
        raise ApiError(404, "local_accounts_off", "local accounts are off: sign in with Firebase")
    return active


def _local_request(request: flask.Request, settings: Settings) -> tuple[LocalAccounts, str, str]:
    active = _local_accounts(settings)
    payload = read_json_object(request, settings)
    if not isinstance(payload.get("email"), str) or not isinstance(payload.get("password"), str):
        raise parse_error()
    return active, payload["email"], payload["password"]


def _client(request: flask.Request) -> str:
    # The peer's address; behind proxies named by MOODLENS_TRUSTED_PROXY_HOPS, the client's as they saw it (the app
    # applies that), else the proxy's own, which then limits everyone behind it together.
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
