"""The local server (scripts/serve: gunicorn + functions/server.py), started once on a free port."""

import os
import socket
import subprocess
import sys
import time

import pytest
import requests


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def server_url(tmp_path_factory, repo_root):
    port = _free_port()
    log_path = tmp_path_factory.mktemp("server") / "server.log"
    env = {**os.environ, "PORT": str(port), "HOST": "127.0.0.1", "PYTHON": sys.executable}
    with open(log_path, "wb") as log:
        server = subprocess.Popen(["bash", str(repo_root / "scripts" / "serve")], env=env, stdout=log,
                                  stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(server, url, log_path)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


def _wait_until_up(server, url, log_path):
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"server exited with {server.returncode}:\n{log_path.read_text()}")
        try:
            requests.options(f"{url}/predict_api", timeout=2)
            return
        # A busy machine can accept the connection before the app answers: a timeout means "not yet" too.
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.3)
    pytest.fail(f"server not up after 120 s:\n{log_path.read_text()}")
