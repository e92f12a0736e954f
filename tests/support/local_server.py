"""The local server (scripts/serve: gunicorn + moodlens.app) on a free port, for as long as a with-block."""

import contextlib
import os
import socket
import subprocess
import sys
import time

import pytest
import requests


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def running_server(repo_root, log_path, env=None):
    """Yields the server's URL; `env` adds to or overrides this process's environment (e.g. another backend)."""
    port = free_port()
    env = {**os.environ, "PORT": str(port), "HOST": "127.0.0.1", "PYTHON": sys.executable, **(env or {})}
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            ["bash", str(repo_root / "scripts" / "serve")], env=env, stdout=log, stderr=subprocess.STDOUT
        )
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
