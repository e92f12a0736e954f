"""The history endpoint, who is calling (shared with the upload endpoints), and the save they use."""

import logging

import flask

from moodlens import services
from moodlens.accounts.errors import AuthUnavailable, InvalidToken
from moodlens.api.http import ApiError, bearer_token, http_endpoint, token_error
from moodlens.history import records, store
from moodlens.settings import Settings

log = logging.getLogger(__name__)

PAGE_DEFAULT, PAGE_MAX = 20, 100


def _unavailable() -> ApiError:
    return ApiError(503, "history_unavailable", "history unavailable, try again")


def _not_found() -> ApiError:
    return ApiError(404, "not_found", "prediction not found")


def signed_in_user(request: flask.Request, settings: Settings) -> str | None:
    """The caller's uid, None without a token; ApiError 401 for a token that does not verify."""
    token = bearer_token(request)
    if token is None:
        return None
    try:
        return services.get(settings).auth.verify(token)
    except InvalidToken:
        raise token_error() from None
    except AuthUnavailable:
        log.exception("token verification unavailable")
        raise _unavailable() from None


def require_user(request: flask.Request, settings: Settings) -> str:
    uid = signed_in_user(request, settings)
    if uid is None:
        raise ApiError(401, "sign_in_required", "sign in to see your history")
    return uid


def save_prediction(
    settings: Settings, uid: str, img_name, model: str, faces: list[dict], original: bytes, annotated: bytes | None
) -> str:
    """Saves a prediction for `uid` (from signed_in_user); returns the record's id."""
    try:
        # With no face there is nothing drawn: the photo itself stands in for the annotated one.
        return store.save_prediction(
            services.get(settings).store, uid, img_name, model, faces, original, annotated or original
        )
    except store.SaveFailed:
        raise ApiError(503, "save_failed", "failed to save prediction, try again") from None


@http_endpoint("GET", "DELETE")
def history_api(request: flask.Request, settings: Settings) -> dict:
    """GET: a page of my predictions, newest first (`limit`, `cursor`), or one with its images (`id`).
    DELETE: one (`id`) or all of mine (`all=true`)."""
    uid = require_user(request, settings)
    args = request.args
    try:
        active = services.get(settings).store
        if request.method == "DELETE":
            if "all" in args:
                # One spelling only: `all=1` or `all=yes` deleting everything, or nothing, would surprise someone.
                if args["all"] != "true":
                    raise ApiError(400, "invalid_query", "to delete every prediction, send all=true")
                return {"deleted": delete_everything(active, uid)}
            if not store.delete_history(active, uid, args.get("id")):
                raise _not_found()
            return {"deleted": 1}
        if "id" in args:
            record = store.get_history(active, uid, args["id"])
            if record is None:
                raise _not_found()
            return record
        items, next_cursor = store.list_history(active, uid, _page_size(args.get("limit")), _cursor(args))
        return {"items": items, "next_cursor": next_cursor}
    except ApiError:
        raise
    except Exception:  # a backend that is down answers 503 like a failed save, never a 500 with a trace
        log.exception("history backend failed")
        raise _unavailable() from None


def delete_everything(active: store.HistoryStore, uid: str) -> int:
    """Every prediction and image of `uid`; a backend failure is a 503, and deleting again finishes the job."""
    try:
        return store.delete_all_history(active, uid)
    except Exception:
        log.exception("deleting the history of %s failed", uid)
        raise _unavailable() from None


def _page_size(raw: str | None) -> int:
    if raw is None:
        return PAGE_DEFAULT
    try:
        return min(max(int(raw), 1), PAGE_MAX)
    except ValueError:
        raise ApiError(400, "invalid_limit", "limit must be a number") from None


def _cursor(args) -> str | None:
    cursor = args.get("cursor") or None
    if cursor is not None and records.decode_cursor(cursor) is None:
        raise ApiError(400, "invalid_cursor", "invalid cursor")
    return cursor
