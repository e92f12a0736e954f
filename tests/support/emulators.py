"""Starts the real emulators the firebase backend is tested on: each on a free port, in its own process group.

Installed by scripts/emulators.sh install: Debian's Firestore emulator, firebase-tools (Auth) in node_modules,
gcp-storage-emulator in the venv.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
PROJECT = "demo-moodlens"
BUCKET = f"{PROJECT}.appspot.com"
FIRESTORE_JAR_DIR = Path("/usr/lib/google-cloud-sdk/platform/cloud-firestore-emulator")
START_TIMEOUT_S = 90


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _require(path, what):
    if path is None or not Path(path).exists():
        raise RuntimeError(f"{what} is not installed: run `bash scripts/emulators.sh install`")
    return str(path)


class Emulator:
    def __init__(self, name, command, port, ready_path, cwd=None):
        self.name, self.command, self.port, self.ready_path = name, command, port, ready_path
        self.cwd = cwd
        # Kept open across start() and stop(), and left on disk for reading after a failure.
        self.log = tempfile.NamedTemporaryFile(prefix=f"moodlens-{name}-", suffix=".log", delete=False)  # noqa: SIM115
        self.process = None

    @property
    def host(self):
        return f"127.0.0.1:{self.port}"

    def start(self):
        self.process = subprocess.Popen(
            self.command,
            cwd=self.cwd,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                with urllib.request.urlopen(f"http://{self.host}{self.ready_path}", timeout=2):
                    return self
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(
            f"{self.name} emulator did not start; its log: {self.log.name}:\n" + Path(self.log.name).read_text()[-3000:]
        )

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        # The launchers (shell wrappers, npx) start children: end the whole group this process leads.
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def firestore(port=None):
    binary = shutil.which("cloud_firestore_emulator") or FIRESTORE_JAR_DIR / "cloud_firestore_emulator"
    port = port or free_port()
    return Emulator(
        "firestore",
        [
            _require(binary, "the Firestore emulator"),
            "start",
            "--host=127.0.0.1",
            f"--port={port}",
            f"--project_id={PROJECT}",
            f"--rules={REPO_ROOT / 'firestore.rules'}",
        ],
        port,
        "/",
    )


def storage(port=None):
    binary = Path(sys.executable).parent / "gcp-storage-emulator"
    port = port or free_port()
    return Emulator(
        "storage",
        [
            _require(binary, "gcp-storage-emulator"),
            "start",
            "--host=127.0.0.1",
            f"--port={port}",
            f"--default-bucket={BUCKET}",
            "--in-memory",
            "--quiet",
        ],
        port,
        "/storage/v1/b",
    )


def auth(port=None):
    binary = REPO_ROOT / "node_modules" / ".bin" / "firebase"
    port = port or free_port()
    workdir = Path(tempfile.mkdtemp(prefix="moodlens-auth-"))
    # A config of its own: free ports for the hub and logger too, and no pick-up of the repo's project files.
    config = {
        "emulators": {
            "auth": {"host": "127.0.0.1", "port": port},
            "hub": {"host": "127.0.0.1", "port": free_port()},
            "logging": {"host": "127.0.0.1", "port": free_port()},
            "ui": {"enabled": False},
            "singleProjectMode": True,
        }
    }
    (workdir / "firebase.json").write_text(json.dumps(config))
    return Emulator(
        "auth",
        [
            _require(binary, "firebase-tools"),
            "emulators:start",
            "--only",
            "auth",
            "--project",
            PROJECT,
            "--config",
            str(workdir / "firebase.json"),
        ],
        port,
        f"/emulator/v1/projects/{PROJECT}/config",
        cwd=workdir,
    )
