"""The history and account endpoints' HTTP side, and the save used by the upload endpoints."""
import logging

import flask

from history import auth, backend, records, store
from http_utils import PARSE_ERROR, ApiError, bearer_token, http_endpoint, read_json_object

log = logging.getLogger(__name__)

SAVE_ERROR = "failed to save prediction, try again"
TOKEN_ERROR = "invalid or expired token, sign in again"
SIGN_IN_REQUIRED = "sign in to see your history"
UNAVAILABLE = "history unavailable, try again"
PAGE_DEFAULT, PAGE_MAX = 20, 100


def signed_in_user(request):
    """The caller's uid, None without a token; ApiError 401 for a token that does not verify."""
    token = bearer_token(request)
    if token is None:
        return None
    try:
        return backend.get().auth.verify(token)
    except auth.InvalidToken:
        raise ApiError(TOKEN_ERROR, 401) from None
    except auth.AuthUnavailable:
        log.exception("token verification unavailable")
        raise ApiError(UNAVAILABLE, 503) from None


def _require_user(request):
    uid = signed_in_user(request)
    if uid is None:
        raise ApiError(SIGN_IN_REQUIRED, 401)
    return uid


def save_upload(uid, img_name, model, faces, original, annotated):
    """For the upload endpoints: saves for the caller `uid` (from signed_in_user) and returns {"id": ...}."""
    try:
        # With no face there is nothing drawn: the photo itself stands in for the annotated one.
        return {"id": store.save_prediction(backend.get().store, uid, img_name, model, faces, original,
                                            annotated or original)}
    except store.SaveFailed:
        raise ApiError(SAVE_ERROR, 503) from None


@http_endpoint("GET", "DELETE")
def history_api(request: flask.Request) -> dict:
    """GET: a page of my predictions, newest first (`limit`, `cursor`), or one with its images (`id`).
    DELETE: one (`id`) or all of mine (`all=true`)."""
    uid = _require_user(request)
    args = request.args
    active = backend.get().store
    try:
        if request.method == "DELETE":
            if args.get("all") == "true":
                return {"deleted": store.delete_all_history(active, uid)}
            if not store.delete_history(active, uid, args.get("id")):
                raise ApiError("prediction not found", 404)
            return {"deleted": 1}
        if "id" in args:
            record = store.get_history(active, uid, args["id"])
            if record is None:
                raise ApiError("prediction not found", 404)
            return record
        items, next_cursor = store.list_history(active, uid, _page_size(args.get("limit")), _cursor(args))
        return {"items": items, "next_cursor": next_cursor}
    except ApiError:
        raise
    except Exception:  # a backend that is down answers 503 like a failed save, never a 500 with a trace
        log.exception("history backend failed")
        raise ApiError(UNAVAILABLE, 503) from None


def _page_size(raw):
    if raw is None:
        return PAGE_DEFAULT
    try:
        return min(max(int(raw), 1), PAGE_MAX)
    except ValueError:
        raise ApiError("limit must be a number") from None


def _cursor(args):
    cursor = args.get("cursor") or None
    if cursor is not None and records.decode_cursor(cursor) is None:
        raise ApiError("invalid cursor")
    return cursor


@http_endpoint("GET")
def auth_config_api(request: flask.Request) -> dict:
    """Tells the pages how to sign in: {"mode": "local"} or {"mode": "firebase", "firebase": <web config>}."""
    return backend.get().client_config


@http_endpoint("POST")
def auth_signup_api(request: flask.Request) -> dict:
    """Local accounts only: {"email", "password"} -> {"token", "uid", "email", "expires_at"}."""
    return _account(request, "sign_up")


@http_endpoint("POST")
def auth_signin_api(request: flask.Request) -> dict:
    return _account(request, "sign_in")


def _account(request, action):
    active = backend.get().auth
    if not isinstance(active, auth.LocalAuth):
        raise ApiError("local accounts are off: sign in with Firebase", 404)
    payload = read_json_object(request)
    if not isinstance(payload.get("email"), str) or not isinstance(payload.get("password"), str):
        raise ApiError(PARSE_ERROR)
    try:
        return getattr(active, action)(payload["email"], payload["password"])
    except auth.AccountError as error:
        raise ApiError(error.message, error.status) from None

