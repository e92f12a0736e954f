"""Each predict function through the local server, over real HTTP."""

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.support import images
from tests.support.http_refusals import PAST_GUNICORNS_LIMITS, check_refusal, raw_exchange
from tests.support.predict_contract import *  # noqa: F403  (the contract's tests, run here over HTTP)
from tests.support.predict_contract import PARSE_ERROR, TOO_LARGE, Reply, check_found

pytestmark = pytest.mark.e2e


@pytest.fixture
def call(server_url):
    def call(endpoint, method="POST", body=None, json=None, headers=None, query=None):
        response = requests.request(
            method, f"{server_url}/{endpoint}", params=query, data=body, json=json, headers=headers, timeout=120
        )
        try:
            payload = response.json()
        except ValueError:
            payload = None
        return Reply(response.status_code, response.headers, payload)

    return call


def test_concurrent_requests_agree(call, photos_dir):
    """Threads of one process share the lazily loaded models: parallel answers equal the sequential one."""
    body = {"image": images.b64((photos_dir / images.FACES_PHOTO).read_bytes())}
    alone = check_found(call("predict_api", json=body), "predict_api", (500, 375), 3)
    with ThreadPoolExecutor(6) as pool:
        replies = list(pool.map(lambda _: call("predict_api", json=body), range(6)))
    for reply in replies:
        together = check_found(reply, "predict_api", (500, 375), 3)
        assert [face["box"] for face in together["faces"]] == [face["box"] for face in alone["faces"]]
        for mine, theirs in zip(together["faces"], alone["faces"]):
            assert [e["emotion"] for e in mine["prediction"]] == [e["emotion"] for e in theirs["prediction"]]


def test_oversized_chunked_body(server_url):
    """Without Content-Length the limit still holds: the body is counted as it is read."""

    def body():
        yield b'{"image": "'
        for _ in range(17):
            yield b"A" * (1024 * 1024)
        yield b'"}'

    response = requests.post(
        f"{server_url}/predict_api", data=body(), timeout=120, headers={"Content-Type": "application/json"}
    )
    assert (response.status_code, response.json()) == (413, TOO_LARGE)


def test_a_broken_chunked_body_is_a_parse_error(server_url):
    """A chunk size that is not hexadecimal is the caller's fault: a JSON 400, not a 500."""
    request = (
        b"POST /predict_api HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n{}\r\n0\r\n\r\n"
    )
    head, body = raw_exchange(server_url, request)
    assert head.startswith(b"HTTP/1.1 400"), head
    assert json.loads(body) == PARSE_ERROR


@pytest.mark.parametrize(
    "headers, path, status, code", PAST_GUNICORNS_LIMITS, ids=["long-url", "long-header", "many-headers"]
)
def test_what_the_http_server_refuses_is_json_the_spec_lists(server_url, headers, path, status, code):
    check_refusal(requests.get(server_url + path, headers=headers, timeout=30), status, code)


def test_head_over_http(server_url):
    reply = requests.head(f"{server_url}/models_api", timeout=30)
    assert reply.status_code == 200 and reply.content == b""
