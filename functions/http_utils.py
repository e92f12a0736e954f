"""JSON answers, errors and CORS shared by every endpoint."""

import functools
import json
import logging

import flask

from config import settings

log = logging.getLogger(__name__)

PARSE_ERROR = "failed to parse json, invalid format"
IMAGE_ERROR = "failed to process image, try another image"


class ApiError(Exception):
    """Raised anywhere below a handler to answer with a JSON error instead of a traceback."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


def _cors_headers(request: flask.Request, methods: tuple[str, ...]) -> dict[str, str]:
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


def json_response(payload: dict, status: int = 200) -> flask.Response:
    return flask.Response(json.dumps(payload), status=status, mimetype="application/json")


def http_endpoint(*methods: str):
    """Turns `handler(request) -> dict` into an HTTP function: CORS, preflight, 405, JSON errors.

    Used as `@http_endpoint("POST")`; the handler answers a dict (HTTP 200) or raises ApiError.
    """

    def decorate(handler):
        @functools.wraps(handler)
        def endpoint(request: flask.Request) -> flask.Response:
            headers = _cors_headers(request, methods)
            if request.method == "OPTIONS":
                response = flask.Response(status=204)
            elif request.method not in methods:
                response = json_response({"error": "method not allowed"}, 405)
                response.headers["Allow"] = ", ".join(methods + ("OPTIONS",))
            else:
                try:
                    response = json_response(handler(request))
                except ApiError as error:
                    response = json_response({"error": error.message}, error.status)
                except Exception:
                    # A bug must still answer JSON; the traceback goes to the log, never to the client.
                    log.exception("unhandled error in %s", handler.__name__)
                    response = json_response({"error": "internal error"}, 500)
            response.headers.update(headers)
            return response

        return endpoint

    return decorate


def read_body(request: flask.Request) -> bytes:
    """The request body, refused with 413 past settings.max_body_bytes without reading it all."""
    # Read by hand rather than through request.max_content_length: functions-framework drains the body again
    # after the response, and that drain would raise the same 413 once more, outside any handler.
    limit = settings.max_body_bytes
    if request.content_length is not None and request.content_length > limit:
        raise ApiError(IMAGE_ERROR, 413)
    chunks, size = [], 0
    while chunk := request.stream.read(1 << 16):
        size += len(chunk)
        if size > limit:
            raise ApiError(IMAGE_ERROR, 413)
        chunks.append(chunk)
    return b"".join(chunks)


def read_json_object(request: flask.Request) -> dict:
    try:
        payload = json.loads(read_body(request))
    except (ValueError, RecursionError):
        raise ApiError(PARSE_ERROR) from None
    if not isinstance(payload, dict):
        raise ApiError(PARSE_ERROR)
    return payload


def bearer_token(request: flask.Request) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None
