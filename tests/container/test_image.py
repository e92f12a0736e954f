"""The image as a self-hoster runs it: built from this checkout, started with scripts/container on a volume, used
over HTTP in local mode; the history survives a restart and a backup restores it."""

import os
import secrets
import socket
import subprocess
import time

import pytest
import requests

from tests.container.helpers import HEALTHY_TIMEOUT_S, Api, container
from tests.support.local_server import free_port

pytestmark = pytest.mark.e2e


@pytest.fixture
def running(engine, app_image, tmp_path):
    """The app container on a free port with a volume of its own; removed, with the volume, afterwards."""
    tag = f"moodlens-test-{os.getpid()}-{secrets.token_hex(3)}"
    port = free_port()
    # No secret: the app generates one into the volume, which must then survive the restart.
    env = {
        "MOODLENS_CONTAINER": tag,
        "MOODLENS_VOLUME": f"{tag}-data",
        "PORT": str(port),
        "MOODLENS_AUTH_SECRET": "",
        "MOODLENS_ENV_FILE": "",
    }
    try:
        container("run", env=env)
        yield {
            "engine": engine,
            "name": tag,
            "volume": f"{tag}-data",
            "env": env,
            "api": Api(f"http://127.0.0.1:{port}"),
        }
    finally:
        container("stop", env=env, check=False)
        subprocess.run([engine, "volume", "rm", "-f", f"{tag}-data"], capture_output=True, timeout=120)


def wait_healthy(running) -> int:
    """Seconds until the image's health check passes (every model answers)."""
    result = container("wait", str(HEALTHY_TIMEOUT_S), env=running["env"], timeout=HEALTHY_TIMEOUT_S + 60)
    return int(result.stdout.strip().splitlines()[-1])


def test_local_mode_round_trip(running, photos_dir, tmp_path):
    api = running["api"]
    seconds = wait_healthy(running)
    print(f"healthy {seconds} s after run")

    api.check_pages()
    api.check_refusals()
    api.check_models(photos_dir)

    credentials = {"email": f"u{secrets.token_hex(4)}@example.com", "password": "correct horse battery"}
    token = api.ok("POST", "auth_signup_api", json=credentials)["token"]
    record_id = api.upload(photos_dir, token)
    assert api.history_ids(token) == [record_id]
    api.check_record(token, record_id)

    # A restart keeps the records, the images and the generated token secret: the old token still works.
    subprocess.run([running["engine"], "restart", running["name"]], check=True, capture_output=True, timeout=180)
    wait_healthy(running)
    assert api.history_ids(token) == [record_id]
    api.check_record(token, record_id)
    token = api.ok("POST", "auth_signin_api", json=credentials)["token"]

    # Online backup, then a deletion, then the restore brings the record back.
    backup = tmp_path / "moodlens-backup.tar.gz"
    container("backup", str(backup), env=running["env"])
    api.delete(token, record_id)
    assert api.history_ids(token) == []
    container("restore", str(backup), env=running["env"], timeout=300)
    wait_healthy(running)
    assert api.history_ids(token) == [record_id]
    api.check_record(token, record_id)

    api.delete(token, record_id)
    assert api.history_ids(token) == []


def test_fifty_slow_clients_do_not_starve_the_service(running):
    """Fifty connections that send headers promising a 100 kB body, then a few bytes now and then, while other
    callers use the API: the image's nginx holds the slow ones, gunicorn's four threads stay free. Without it, four
    such clients froze every other request until they left (issue 17)."""
    api = running["api"]
    wait_healthy(running)
    host, port = api.base_url.removeprefix("http://").split(":")
    slow = []
    try:
        for _ in range(50):
            connection = socket.create_connection((host, int(port)), timeout=10)
            connection.sendall(
                b"POST /predict_api HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b'Content-Length: 100000\r\n\r\n{"image": "'
            )
            slow.append(connection)
        for connection in slow:
            connection.sendall(b"AAAA")
        started = time.perf_counter()
        for _ in range(5):
            # A generous timeout: the point is that these answer at all while the slow clients hold on.
            assert requests.get(f"{api.base_url}/auth_config_api", timeout=15).status_code == 200
        print(f"auth_config_api mean with 50 slow clients: {(time.perf_counter() - started) / 5 * 1000:.1f} ms")
    finally:
        for connection in slow:
            connection.close()
