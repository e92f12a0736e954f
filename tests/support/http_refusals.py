"""What the HTTP servers in front of the app (gunicorn; nginx too in the image) refuse themselves, before any endpoint
reads the request: each refusal must be JSON that the API's description lists for every operation, with the
security headers every answer carries, each once."""

import json
import socket

import requests

from moodlens.app import OPENAPI_PATH

SPEC = json.loads(OPENAPI_PATH.read_text())
# (headers, path, status, code) of requests the servers refuse, with the limits they pass (deploy/gunicorn.conf.py:
# a 4 KiB request line, 8 KiB per header, 50 headers; the image's nginx: 8 KiB header buffers).
PAST_GUNICORNS_LIMITS = [
    ({}, "/models_api?" + "a" * 5000, 414, "uri_too_long"),
    ({"X-Big": "b" * 9000}, "/models_api", 431, "request_header_fields_too_large"),
    ({f"X-Many-{i}": "1" for i in range(120)}, "/models_api", 431, "request_header_fields_too_large"),
]
# nginx answers a header past 8 KiB itself too, so of these only the URL reaches gunicorn's own limits.
PAST_NGINXS_LIMITS = [({}, "/models_api?" + "a" * 9000, 414, "uri_too_long")]


def check_security_headers(reply: requests.Response) -> None:
    # requests joins repeated headers with ", ", so a header sent twice fails the equality.
    assert reply.headers.get("X-Content-Type-Options") == "nosniff", reply.headers
    assert reply.headers.get("X-Frame-Options") == "DENY", reply.headers


def check_refusal(reply: requests.Response, status: int, code: str) -> None:
    assert reply.status_code == status and reply.headers["Content-Type"] == "application/json", reply.text[:300]
    assert reply.json()["code"] == code
    check_security_headers(reply)
    assert code in SPEC["components"]["schemas"]["Error"]["properties"]["code"]["enum"]
    for path, operations in SPEC["paths"].items():
        for method, operation in operations.items():
            assert str(status) in operation["responses"], f"{method.upper()} {path} does not list {status}"


def raw_exchange(base_url: str, request: bytes) -> tuple[bytes, bytes]:
    """Sends `request` as bytes (for what an HTTP client library will not send) and returns the answer's head and
    body, read until the server closes the connection."""
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=60) as connection:
        connection.sendall(request)
        reply = b""
        while chunk := connection.recv(65536):
            reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    return head, body
