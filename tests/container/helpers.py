"""What the container tests share: scripts/container as a subprocess, and the API calls a client makes over HTTP."""

import json
import os
import subprocess
import time
from pathlib import Path

import pytest
import requests

from tests.support import images
from tests.support.http_refusals import (
    PAST_GUNICORNS_LIMITS,
    PAST_NGINXS_LIMITS,
    check_refusal,
    check_security_headers,
    raw_exchange,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = REPO_ROOT / "scripts" / "container"
NO_ENGINE = 3  # scripts/container's exit status when no engine can be had
# A cold build (base images, TensorFlow, the pages' npm packages, the emulators' Java and Node.js) takes minutes.
BUILD_TIMEOUT_S = 45 * 60
HEALTHY_TIMEOUT_S = 600
MODELS = ["inception-resnet", "mobilenetv2", "yolo3"]
# Models that find faces with MTCNN find all three of FACES_PHOTO; yolo3 finds faces its own way.
MTCNN_MODELS = {"inception-resnet", "mobilenetv2"}


def container(*args, env=None, log: Path | None = None, timeout=600, check=True) -> subprocess.CompletedProcess:
    """Runs scripts/container; its output goes to `log` when given (builds print thousands of lines)."""
    full_env = {**os.environ, **(env or {})}
    if log is None:
        result = subprocess.run(
            ["bash", str(SCRIPT), *args], cwd=REPO_ROOT, env=full_env, capture_output=True, text=True, timeout=timeout
        )
        output = result.stdout + result.stderr
    else:
        with open(log, "a") as out:
            result = subprocess.run(
                ["bash", str(SCRIPT), *args],
                cwd=REPO_ROOT,
                env=full_env,
                stdout=out,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=timeout,
            )
        output = log.read_text()[-4000:]
    if check and result.returncode != 0:
        pytest.fail(f"scripts/container {' '.join(args)} exited {result.returncode}:\n{output[-4000:]}")
    return result


def wait_until_answers(url: str, timeout=HEALTHY_TIMEOUT_S) -> float:
    """Seconds until `url` answers 200 (polling)."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        try:
            if requests.get(url, timeout=5).status_code == 200:
                return time.monotonic() - start
        except requests.RequestException:
            pass
        time.sleep(1)
    pytest.fail(f"{url} did not answer within {timeout} s")


class Api:
    """The calls the pages make, over real HTTP."""

    def __init__(self, base_url: str):
        self.base_url = base_url

    def call(self, method, endpoint, token=None, **kwargs):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return requests.request(method, f"{self.base_url}/{endpoint}", headers=headers, timeout=120, **kwargs)

    def ok(self, method, endpoint, token=None, **kwargs) -> dict:
        response = self.call(method, endpoint, token, **kwargs)
        assert response.status_code == 200, (endpoint, response.status_code, response.text[:500])
        return response.json()

    def check_models(self, photos_dir) -> None:
        """Every model predicts on the shared photo with three faces."""
        assert sorted(model["name"] for model in self.ok("GET", "models_api")["models"]) == sorted(MODELS)
        photo = images.b64((photos_dir / images.FACES_PHOTO).read_bytes())
        for model in MODELS:
            answer = self.ok("POST", "predict_api", json={"image": photo, "model": model})
            assert answer["model"] == model and answer["found"] is True, answer.get("timings_ms")
            if model in MTCNN_MODELS:
                assert len(answer["faces"]) == 3
            for face in answer["faces"]:
                assert len(face["prediction"]) == 7 and face["face"]

    def check_pages(self) -> None:
        """The pages and the bundle they load come from the same server."""
        index = self.call("GET", "")
        assert index.status_code == 200 and "text/html" in index.headers["Content-Type"]
        camera = self.call("GET", "camera.html").text
        assert 'src="build/camera.js"' in camera or "build/camera.js" in camera
        script = self.call("GET", "build/camera.js")
        assert script.status_code == 200 and "javascript" in script.headers["Content-Type"]

    def check_refusals(self) -> None:
        """What nginx refuses, and gunicorn behind it, is JSON the spec lists; a proxied answer carries the security
        headers once, not nginx's and the app's copies."""
        for headers, path, status, code in PAST_NGINXS_LIMITS + PAST_GUNICORNS_LIMITS:
            check_refusal(requests.get(self.base_url + path, headers=headers, timeout=30), status, code)
        check_security_headers(self.call("GET", "models_api"))
        # A request line nginx cannot parse leaves it no URI, which a refusal page must not need.
        head, body = raw_exchange(self.base_url, b"GARBAGE\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 400") and b"X-Frame-Options: DENY" in head, head
        assert json.loads(body) == {"error": "bad request", "code": "bad_request"}

    def upload(self, photos_dir, token, model="mobilenetv2") -> str:
        photo = images.b64((photos_dir / images.FACES_PHOTO).read_bytes())
        answer = self.ok(
            "POST", "predict_upload_api", token, json={"image": photo, "model": model, "img_name": "three.jpg"}
        )
        assert answer["found"] is True and answer["id"]
        return answer["id"]

    def history_ids(self, token) -> list[str]:
        return [item["id"] for item in self.ok("GET", "history_api", token, params={"limit": 100})["items"]]

    def check_record(self, token, record_id) -> None:
        record = self.ok("GET", "history_api", token, params={"id": record_id})
        assert record["img_name"] == "three.jpg" and len(record["faces"]) == 3
        assert record["original"] and record["image"]

    def delete(self, token, record_id) -> None:
        assert self.ok("DELETE", "history_api", token, params={"id": record_id}) == {"deleted": 1}
        assert self.call("GET", "history_api", token, params={"id": record_id}).status_code == 404
