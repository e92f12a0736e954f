"""JSON answers, errors, CORS and request bodies, shared by every endpoint."""

import functools
import json
import logging
from collections.abc import Callable

import flask

from moodlens.settings import Settings, SettingsError, get_settings

log = logging.getLogger(__name__)

# Every answer, JSON or page, is never to be sniffed into another type or framed. The endpoints, the pages, the
# spec and gunicorn's own refusals send these; nginx's config in the image repeats them (it cannot import them).
SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY"}


class ApiError(Exception):
    """Raised anywhere below a handler to answer `{"error": message, "code": code}` with `status`.

    `message` is the contract's English text (clients match it); `code` is stable and machine-readable, and is
    what the pages key their own wording on."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def parse_error() -> ApiError:
    return ApiError(400, "invalid_json", "failed to parse json, invalid format")


def token_error() -> ApiError:
    return ApiError(401, "invalid_token", "invalid or expired token, sign in again")


def image_error(status: int = 400) -> ApiError:
    return ApiError(
        status, "invalid_image" if status == 400 else "too_large", "failed to process image, try another image"
    )


def error_body(status: int, code: str, message: str) -> flask.Response:
    return json_response({"error": message, "code": code}, status)


def json_response(payload: dict, status: int = 200) -> flask.Response:
    return flask.Response(json.dumps(payload), status=status, mimetype="application/json")


def _cors_headers(request: flask.Request, settings: Settings, methods: tuple[str, ...]) -> dict[str, str]:
    allowed = settings.allowed_origins
    origin = request.headers.get("Origin")
    if "*" in allowed:
        allow_origin = "*"
    elif origin in allowed:
        allow_origin = origin
    else:
        return {}
    return {
        "Access-Control-Allow-Origin": allow_origin,
        "Access-Control-Allow-Methods": ", ".join(methods + ("OPTIONS",)),
        "Access-Control-Allow-Headers": "Content-Type, Authorization",
        "Access-Control-Max-Age": "3600",
        "Vary": "Origin",
    }


Handler = Callable[[flask.Request, Settings], dict]


def http_endpoint(*methods: str) -> Callable[[Handler], Callable[[flask.Request], flask.Response]]:
    """Turns `handler(request, settings) -> dict` into an HTTP function: settings, CORS, preflight, 405, JSON errors.

    Used as `@http_endpoint("POST")`; the handler answers a dict (HTTP 200) or raises ApiError."""

    def decorate(handler: Handler) -> Callable[[flask.Request], flask.Response]:
        @functools.wraps(handler)
        def endpoint(request: flask.Request) -> flask.Response:
            try:
                settings = get_settings()
            except SettingsError as error:
                # Logged at start by main.py too; every call names the setting until it is fixed.
                log.error("refusing %s: invalid setting %s", handler.__name__, error)
                return error_body(503, "misconfigured", f"server misconfigured: {error.variable}: {error.reason}")
            headers = _cors_headers(request, settings, methods)
            # HEAD is GET without the body (werkzeug drops it), wherever GET is allowed.
            method = "GET" if request.method == "HEAD" else request.method
            if request.method == "OPTIONS":
                response = flask.Response(status=204)
            elif method not in methods:
                response = error_body(405, "method_not_allowed", "method not allowed")
                response.headers["Allow"] = ", ".join(methods + ("OPTIONS",))
            else:
                try:
                    response = json_response(handler(request, settings))
                except ApiError as error:
                    response = error_body(error.status, error.code, error.message)
                    response.headers.update(error.headers)
                except Exception:
                    # A bug must still answer JSON; the traceback goes to the log, never to the client.
                    log.exception("unhandled error in %s", handler.__name__)
                    response = error_body(500, "internal", "internal error")
            response.headers.update(headers)
            response.headers.update(SECURITY_HEADERS)
            return response

        return endpoint

    return decorate


def read_body(request: flask.Request, limit: int) -> bytes:
    """The request body, refused with 413 past `limit` bytes without reading it all."""
    # Read by hand rather than through request.max_content_length: functions-framework drains the body again
    # after the response, and that drain would raise the same 413 once more, outside any handler.
    if request.content_length is not None and request.content_length > limit:
        raise image_error(413)
    chunks, size = [], 0
    while chunk := _read_chunk(request):
        size += len(chunk)
        if size > limit:
            raise image_error(413)
        chunks.append(chunk)
    return b"".join(chunks)


def _read_chunk(request: flask.Request) -> bytes:
    try:
        return request.stream.read(1 << 16)
    except Exception:
        # Whatever the server's body reader raises (gunicorn's InvalidChunkSize, a client gone mid-body) is a broken
        # request, the caller's fault: a 400, never a 500.
        raise parse_error() from None


def read_json_object(request: flask.Request, settings: Settings) -> dict:
    try:
        payload = json.loads(read_body(request, settings.max_body_bytes))
    except (ValueError, RecursionError):
        raise parse_error() from None
    if not isinstance(payload, dict):
        raise parse_error()
    try:
        # JSON may spell lone surrogates ("\ud800"), which no UTF-8 store or answer can hold.
        json.dumps(payload, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise parse_error() from None
    return payload


def bearer_token(request: flask.Request) -> str | None:
    """The token of `Authorization: Bearer <token>`; None without the header. Any other Authorization header is
    refused (401) rather than taken as anonymous, so a caller with a broken client learns it at once."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip() or " " in token.strip():
        raise token_error()
    return token.strip()
