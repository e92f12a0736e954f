"""The deploy folder on its own, as Cloud Functions gets it: functions/ as gcloud uploads it (scripts/deploy --stage),
copied outside the repository; a fresh virtual environment from the folder's requirements.txt alone; each entry
point served alone by the functions-framework CLI from inside the copy, with the settings scripts/deploy gives it
(firebase backend; here on the emulators) and no PYTHONPATH. A module the folder does not ship, a model it lacks or a
package its requirements.txt forgets fails here, not in the cloud.

Records the folder and venv sizes and each function's cold start (process start to its first answer) and peak
memory: printed at the end of the run and written to deploy-measurements.json (in pytest's base temp folder, or
MOODLENS_DEPLOY_MEASUREMENTS). Never asserts on time. MOODLENS_DEPLOY_PYTHON picks the venv's interpreter (default:
the one this run's venv was made from).
"""

import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests

from tests.deploy.conftest import REPO_ROOT, bare_path, base_python, commands, env_vars, run_deploy
from tests.support import emulators, images
from tests.support.history import firebase_user
from tests.support.predict_contract import EMOTIONS, Reply, check_found

pytestmark = pytest.mark.deploy

PROJECT = emulators.PROJECT
WEB_CONFIG = {
    "apiKey": "AIzaFakeKeyForTests",
    "authDomain": f"{PROJECT}.firebaseapp.com",
    "projectId": PROJECT,
    "storageBucket": emulators.BUCKET,
    "appId": "1:1234:web:abcd",
}
MODELS = {"inception-resnet", "mobilenetv2", "yolo3"}
PIP_TIMEOUT_S = 1800
UP_TIMEOUT_S = 90
# TensorFlow, MTCNN and a model load on the first request: 10-20 s on 2 cores, more on a busy machine.
FIRST_ANSWER_TIMEOUT_S = 300
SCRUBBED = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONUSERBASE", "VIRTUAL_ENV", "PIP_REQUIRE_VIRTUALENV")


def tree_size(path: Path) -> tuple[int, int]:
    files = [p for p in path.rglob("*") if p.is_file() and not p.is_symlink()]
    return len(files), sum(p.stat().st_size for p in files)


def mib(size: int) -> float:
    return round(size / 2**20, 1)


@pytest.fixture(scope="session")
def deploy_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("deploy")


@pytest.fixture(scope="session")
def folder(deploy_dir, measurements):
    """functions/ as gcloud would upload it, copied by scripts/deploy --stage outside the repository."""
    staged = deploy_dir / "functions"
    result = run_deploy(["--stage", str(staged)], bare_path(deploy_dir))
    assert result.returncode == 0, result.stderr
    files, size = tree_size(staged)
    measurements["folder"] = {"files": files, "mib": mib(size)}
    return staged


@pytest.fixture(scope="session")
def venv(deploy_dir, folder, measurements):
    """A fresh virtual environment with the folder's requirements.txt and nothing else (pip's cache is reused)."""
    python = os.environ.get("MOODLENS_DEPLOY_PYTHON") or base_python()
    path = deploy_dir / "venv"
    subprocess.run([python, "-m", "venv", str(path)], check=True, timeout=300)
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED}
    started = time.monotonic()
    result = subprocess.run(
        [
            str(path / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
            "requirements.txt",
        ],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=PIP_TIMEOUT_S,
    )
    if result.returncode != 0:
        pytest.fail(f"pip install -r requirements.txt failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    version = subprocess.run([str(path / "bin" / "python"), "--version"], capture_output=True, text=True).stdout
    measurements["venv"] = {
        "mib": mib(tree_size(path)[1]),
        "install_s": round(time.monotonic() - started, 1),
        "python": version.strip(),
    }
    return path


@pytest.fixture(scope="session")
def deployed_env(deploy_dir):
    """Each function's service name and environment, read from the commands scripts/deploy --dry-run prints."""
    config = deploy_dir / "web-config.json"
    config.write_text(json.dumps(WEB_CONFIG))
    result = run_deploy(["--dry-run", "--project", PROJECT, "--web-config", str(config)], bare_path(deploy_dir))
    assert result.returncode == 0, result.stderr
    found = {}
    for command in commands(result.stdout):
        if command[:3] == ["gcloud", "functions", "deploy"]:
            (entry,) = [arg.split("=", 1)[1] for arg in command if arg.startswith("--entry-point=")]
            found[entry] = SimpleNamespace(service=command[3], env=env_vars(command))
    return found


def base_env(deploy_dir: Path, venv: Path) -> dict[str, str]:
    """What a Cloud Functions instance starts with, give or take: no PYTHONPATH, a HOME of its own."""
    home = deploy_dir / "home"
    home.mkdir(exist_ok=True)
    return {
        "PATH": f"{venv / 'bin'}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "TMPDIR": os.environ.get("TMPDIR", "/tmp"),
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Function:
    """One entry point served alone: `functions-framework --source=main.py --target=NAME` in the copied folder."""

    def __init__(self, name: str, folder: Path, venv: Path, env: dict[str, str], log: Path):
        self.name, self.port, self.log = name, free_port(), log
        self.started = time.monotonic()
        with open(log, "wb") as out:
            self.process = subprocess.Popen(
                [
                    str(venv / "bin" / "functions-framework"),
                    "--source=main.py",
                    f"--target={name}",
                    "--host=127.0.0.1",
                    f"--port={self.port}",
                ],
                cwd=folder,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.up_s = self._wait_up()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def _wait_up(self) -> float:
        deadline = self.started + UP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                requests.options(self.url, timeout=2)  # any answer: even a misconfigured function answers (503)
                return time.monotonic() - self.started
            except (requests.ConnectionError, requests.Timeout):
                pass
            time.sleep(0.1)
        self.stop()
        pytest.fail(f"{self.name} not answering after {UP_TIMEOUT_S} s:\n{self.log_tail()}")

    def call(self, method="POST", json=None, params=None, headers=None, timeout=120) -> requests.Response:
        try:
            return requests.request(method, self.url, json=json, params=params, headers=headers, timeout=timeout)
        except requests.RequestException as error:
            pytest.fail(f"{self.name}: {error}\n{self.log_tail()}")

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def peak_rss_mib(self) -> float | None:
        """Peak resident memory of the process and its gunicorn worker(s), as an instance's memory counts it."""
        total = 0
        pids = [self.process.pid]
        try:
            children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
            pids += [int(pid) for pid in children]
            for pid in pids:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        total += int(line.split()[1]) * 1024
        except (OSError, ValueError):
            return None
        return mib(total)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def photo_body(photos_dir, **extra) -> dict:
    return {"image": images.b64((photos_dir / images.FACES_PHOTO).read_bytes()), **extra}


def bearer(user) -> dict:
    return {"Authorization": f"Bearer {user.token}"}


@pytest.fixture(scope="session")
def served(folder, venv, deployed_env, emulator_hosts, deploy_dir, photos_dir, measurements):
    """Starts each deployed function on first use, alone, with its deployed settings plus the emulators' addresses
    and K_SERVICE (Cloud Run sets it); its first call is timed as the cold start and kept as `.first`."""
    running: dict[str, Function] = {}
    rows = measurements.setdefault("functions", {})
    cold_user = firebase_user(emulator_hosts.auth.host)
    photo = photo_body(photos_dir)
    # The first call of each: (what it is, method, JSON body, headers); it is timed from the process's start.
    first_calls = {
        "predict_api": ("POST the 3-face photo", "POST", photo, None),
        "predict_upload_api": ("POST the 3-face photo", "POST", photo, None),
        "predict_img_only_api": ("POST the 3-face photo", "POST", photo, None),
        "models_api": ("GET", "GET", None, None),
        "history_api": ("GET a signed-in list", "GET", None, bearer(cold_user)),
        "auth_config_api": ("GET", "GET", None, None),
        "account_api": ("DELETE without a token (401)", "DELETE", None, None),
    }

    def get(name: str) -> Function:
        if name not in running:
            deployed = deployed_env[name]
            env = {
                **base_env(deploy_dir, venv),
                **deployed.env,
                "K_SERVICE": deployed.service,
                "K_REVISION": f"{deployed.service}-00001-abc",
                "FIRESTORE_EMULATOR_HOST": emulator_hosts.firestore.host,
                "FIREBASE_AUTH_EMULATOR_HOST": emulator_hosts.auth.host,
                "STORAGE_EMULATOR_HOST": f"http://{emulator_hosts.storage.host}",
            }
            function = Function(name, folder, venv, env, deploy_dir / f"{name}.log")
            running[name] = function
            what, method, body, headers = first_calls[name]
            function.first = function.call(method, json=body, headers=headers, timeout=FIRST_ANSWER_TIMEOUT_S)
            rows[name] = {
                "up_s": round(function.up_s, 2),
                "cold_start_s": round(time.monotonic() - function.started, 2),
                "first_call": what,
            }
            expected = 401 if name == "account_api" else 200
            assert function.first.status_code == expected, (function.first.text[:500], function.log_tail())
        return running[name]

    yield get
    for name, function in running.items():
        rows[name]["peak_rss_mib"] = function.peak_rss_mib()
        function.stop()


# --- the folder and its environment: nothing from the repository -------------------------------------------------


def test_the_copy_lives_outside_the_repository(folder):
    assert not folder.resolve().is_relative_to(REPO_ROOT.resolve())
    assert {"main.py", "requirements.txt", "moodlens", "models"} <= {p.name for p in folder.iterdir()}


def test_the_venv_holds_the_requirements_and_nothing_of_ours(venv):
    listed = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "list", "--format=json"], capture_output=True, text=True, check=True
    ).stdout
    names = {row["name"].lower().replace("_", "-") for row in json.loads(listed)}
    assert {"functions-framework", "ai-edge-litert", "firebase-admin"} <= names
    assert not names & {"moodlens", "pytest", "requests-mock", "ruff", "mypy", "playwright"}
    # Serving runs LiteRT: TensorFlow, Keras and the mtcnn package are training's, never deployed.
    assert not names & {"tensorflow", "tensorflow-cpu", "keras", "mtcnn"}


def test_the_code_comes_from_the_folder(folder, venv, deploy_dir):
    probe = "import json, sys, main, moodlens; print(json.dumps([main.__file__, moodlens.__file__, sys.path]))"
    result = subprocess.run(
        [str(venv / "bin" / "python"), "-c", probe],
        cwd=folder,
        env=base_env(deploy_dir, venv),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    main_file, package_file, path = json.loads(result.stdout.splitlines()[-1])
    assert Path(main_file).resolve().parent == folder.resolve()
    assert Path(package_file).resolve().is_relative_to(folder.resolve())
    assert not [entry for entry in path if entry and Path(entry).resolve().is_relative_to(REPO_ROOT.resolve())]


# --- each endpoint's contract, served alone ------------------------------------------------------------------------


def reply(response: requests.Response) -> Reply:
    return Reply(response.status_code, dict(response.headers), response.json())


def test_predict_api(served):
    function = served("predict_api")
    body = check_found(reply(function.first), "predict_api", (500, 375), 3)
    assert all({entry["emotion"] for entry in face["prediction"]} == EMOTIONS for face in body["faces"])


@pytest.mark.parametrize("model", ["mobilenetv2", "yolo3"])
def test_predict_api_other_models(served, photos_dir, model):
    response = served("predict_api").call(json=photo_body(photos_dir, model=model))
    assert response.status_code == 200, response.text[:500]
    assert response.json()["model"] == model and response.json()["found"] is True


def test_predict_api_cors_names_the_hosting_origins(served):
    function = served("predict_api")
    for origin in (f"https://{PROJECT}.web.app", f"https://{PROJECT}.firebaseapp.com"):
        response = function.call("OPTIONS", headers={"Origin": origin, "Access-Control-Request-Method": "POST"})
        assert response.headers.get("Access-Control-Allow-Origin") == origin
    response = function.call(
        "OPTIONS", headers={"Origin": "https://elsewhere.example", "Access-Control-Request-Method": "POST"}
    )
    assert "Access-Control-Allow-Origin" not in response.headers


def test_predict_img_only_api(served):
    check_found(reply(served("predict_img_only_api").first), "predict_img_only_api", (500, 375), 3)


def test_models_api(served):
    body = served("models_api").first.json()
    assert {model["name"] for model in body["models"]} == MODELS
    assert body["default"] == "inception-resnet"


def test_auth_config_api(served):
    body = served("auth_config_api").first.json()
    assert body["mode"] == "firebase" and body["firebase"] == WEB_CONFIG


def test_upload_is_saved_listed_and_deleted(served, emulator_hosts, photos_dir):
    user = firebase_user(emulator_hosts.auth.host)
    upload, history = served("predict_upload_api"), served("history_api")
    saved = upload.call(json=photo_body(photos_dir, img_name="three.jpg"), headers=bearer(user))
    assert saved.status_code == 200, saved.text[:500]
    record_id = saved.json()["id"]
    assert len(saved.json()["faces"]) == 3
    listed = history.call("GET", headers=bearer(user)).json()
    assert [item["id"] for item in listed["items"]] == [record_id]
    record = history.call("GET", params={"id": record_id}, headers=bearer(user)).json()
    assert record["img_name"] == "three.jpg" and record["model"] == "inception-resnet" and len(record["faces"]) == 3
    deleted = history.call("DELETE", params={"id": record_id}, headers=bearer(user))
    assert (deleted.status_code, deleted.json()) == (200, {"deleted": 1})
    assert history.call("GET", headers=bearer(user)).json()["items"] == []


def test_an_account_is_deleted_with_its_history(served, emulator_hosts, photos_dir):
    user = firebase_user(emulator_hosts.auth.host)
    upload, history, account = served("predict_upload_api"), served("history_api"), served("account_api")
    assert upload.call(json=photo_body(photos_dir), headers=bearer(user)).status_code == 200
    deleted = account.call("DELETE", headers=bearer(user))
    assert (deleted.status_code, deleted.json()) == (200, {"deleted": 1, "account_deleted": True})
    assert history.call("GET", headers=bearer(user)).status_code == 401


def test_history_wants_a_signed_in_caller(served):
    response = served("history_api").call("GET")
    assert response.status_code == 401 and response.json()["code"] == "sign_in_required"


def test_the_local_backend_on_cloud_run_answers_503_naming_the_setting(folder, venv, deploy_dir):
    env = {**base_env(deploy_dir, venv), "K_SERVICE": "x", "MOODLENS_HISTORY_BACKEND": "local"}
    function = Function("models_api", folder, venv, env, deploy_dir / "misconfigured.log")
    try:
        response = function.call("GET")
        assert response.status_code == 503
        body = response.json()
        assert body["code"] == "misconfigured"
        assert body["error"].startswith("server misconfigured: MOODLENS_HISTORY_BACKEND: ")
    finally:
        function.stop()
