"""The performance table, in one run: `.venv/bin/python -m bench` from the repository root.

Prints each row with the peer `fer` beside ours where there is one. The peer lives in its own virtual environment
(var/bench/fer-venv, made by scripts/peer_fer.sh; never a dependency of the project) and runs in its own process
(bench/fer_worker.py), on the same photos, in the same run. Ratios are what to read: on a busy machine both sides
slow down together. Rows:

  cold      process start to the first answered photo, inception-resnet (and fer), and the peak memory then
  warm      per photo, server-side bytes in to predict_api's answer out, MTCNN path and yolo3, against fer
  memory    a serving process (scripts/serve, the container's gunicorn settings) after N mixed requests
  camera    the real camera page in Chromium with a fake camera, browser and server on this machine
  load      requests per second, 8 clients, 640x480 photo with 3 faces, the same server

Options: --runs (5: medians of that many runs), --rounds (3 per run), --requests (1000), --skip ROW[,ROW].
"""

import argparse
import base64
import io
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import requests
from PIL import Image

REPO_ROOT = Path(__file__).resolve().parent.parent
PHOTOS = REPO_ROOT.parent / "shared" / "data" / "photos"
PEER_PYTHON = REPO_ROOT / "var" / "bench" / "fer-venv" / "bin" / "python"
PEER_WORKER = REPO_ROOT / "bench" / "fer_worker.py"
LOAD_PHOTO = "dlib_2008_001322.jpg"  # 3 faces, resized to 640x480
CAMERA_PHOTO = "dlib_2009_004587.jpg"  # 2 faces, as the camera tests use
MODELS = ("inception-resnet", "mobilenetv2", "yolo3")

COLD_SCRIPT = """
import json, resource, sys
from moodlens.predict import catalog, pipeline
from moodlens.settings import Settings
settings = Settings()
data = open(sys.argv[1], "rb").read()
found = pipeline.run(data, catalog.resolve("inception-resnet", settings.models_dir), settings).faces
print(json.dumps({"faces": len(found), "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def photos() -> list[Path]:
    return sorted(path for path in PHOTOS.glob("*.jp*g"))


def median(values) -> float:
    return float(statistics.median(values))


def peer_ready() -> bool:
    if not PEER_PYTHON.exists():
        subprocess.run(["bash", str(REPO_ROOT / "scripts" / "peer_fer.sh")], check=False)
    return PEER_PYTHON.exists()


def timed_process(command: list[str], env: dict | None = None) -> tuple[float, dict]:
    """Seconds from start to exit of a process that prints one JSON line, and that line."""
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=REPO_ROOT, check=False)
    seconds = time.perf_counter() - start
    if done.returncode:
        raise RuntimeError(f"{command[:3]} failed:\n{done.stderr[-2000:]}")
    return seconds, json.loads(done.stdout.strip().splitlines()[-1])


def cold(runs: int, peer: bool) -> None:
    photo = str(PHOTOS / LOAD_PHOTO)
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT / "functions")}
    ours, theirs = [], []
    for _ in range(runs):
        ours.append(timed_process([sys.executable, "-c", COLD_SCRIPT, photo], env))
        if peer:
            theirs.append(timed_process([str(PEER_PYTHON), str(PEER_WORKER), "cold", photo]))
    row("cold start to first answer (s)", [s for s, _ in ours], [s for s, _ in theirs], "s")
    row("peak memory of that process (MB)", [r["peak_rss_mb"] for _, r in ours], [r["peak_rss_mb"] for _, r in theirs])


def warm_ours(model: str, rounds: int) -> dict[str, list[float]]:
    from moodlens.app import create_app

    client = create_app().test_client()
    bodies = {p.name: {"image": base64.b64encode(p.read_bytes()).decode(), "model": model} for p in photos()}
    for body in bodies.values():
        client.post("/predict_api", json=body)  # warm-up
    times: dict[str, list[float]] = {name: [] for name in bodies}
    for _ in range(rounds):
        for name, body in bodies.items():
            start = time.perf_counter()
            reply = client.post("/predict_api", json=body)
            times[name].append((time.perf_counter() - start) * 1000)
            assert reply.status_code == 200, reply.get_json()
    return times


def warm_peer(rounds: int) -> dict[str, list[float]]:
    _, result = timed_process(
        [str(PEER_PYTHON), str(PEER_WORKER), "warm", "--rounds", str(rounds), *map(str, photos())]
    )
    return {Path(path).name: times for path, times in result["ms"].items()}


def per_photo_median(times: dict[str, list[float]]) -> float:
    """The median over photos of each photo's median time."""
    return median([median(t) for t in times.values()])


def warm(runs: int, rounds: int, peer: bool) -> None:
    for label, model in (("MTCNN path (inception-resnet)", "inception-resnet"), ("yolo3", "yolo3")):
        ours, theirs = [], []
        for _ in range(runs):
            ours.append(per_photo_median(warm_ours(model, rounds)))
            if peer:
                theirs.append(per_photo_median(warm_peer(rounds)))
        row(f"warm per photo, {label} (ms)", ours, theirs)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def server(env: dict | None = None):
    """scripts/serve (gunicorn with the container's settings) on a free port; yields its URL and process."""
    port = free_port()
    log = Path(tempfile.gettempdir()) / f"bench-server-{port}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            ["bash", str(REPO_ROOT / "scripts" / "serve")],
            env={**os.environ, "PORT": str(port), "HOST": "127.0.0.1", **(env or {})},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    started = time.perf_counter()
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"server exited; see {log}")
            try:
                requests.get(f"{url}/models_api", timeout=2)
                break
            except requests.RequestException:
                time.sleep(0.05)
        yield url, process, started
    finally:
        process.terminate()
        process.wait(timeout=30)


def worker_rss_mb(master: subprocess.Popen) -> float:
    """Resident memory of the serving processes under the master (gunicorn's workers), summed."""
    found = subprocess.run(["ps", "-o", "rss=", "--ppid", str(master.pid)], capture_output=True, text=True).stdout
    children = [int(line) for line in found.split()]
    # scripts/serve execs gunicorn, so the master is the process itself; its workers are its children.
    return sum(children) / 1024


def jpeg_640x480() -> bytes:
    buffer = io.BytesIO()
    with Image.open(PHOTOS / LOAD_PHOTO) as photo:
        photo.convert("RGB").resize((640, 480), Image.Resampling.BICUBIC).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def first_answer_through_server() -> float:
    body = {"image": base64.b64encode((PHOTOS / LOAD_PHOTO).read_bytes()).decode()}
    with server() as (url, _, started):
        reply = requests.post(f"{url}/predict_api", json=body, timeout=120)
        assert reply.status_code == 200
        return time.perf_counter() - started


def memory(requests_count: int) -> None:
    bodies = [
        {"image": base64.b64encode(p.read_bytes()).decode(), "model": model} for p in photos() for model in MODELS
    ]
    with server() as (url, process, _):
        fresh = worker_rss_mb(process)
        session = requests.Session()
        for index in range(requests_count):
            reply = session.post(f"{url}/predict_api", json=bodies[index % len(bodies)], timeout=120)
            assert reply.status_code == 200
        after = worker_rss_mb(process)
    print(
        f"{'serving worker memory, fresh -> after ' + str(requests_count) + ' mixed requests (MB)':58s} "
        f"{fresh:8.0f} -> {after:.0f}   (photos {len(photos())}, 3 models, predict_api)"
    )


def load(seconds: float = 20, clients: int = 8) -> None:
    body = {"image": base64.b64encode(jpeg_640x480()).decode(), "model": "inception-resnet"}
    with server() as (url, _, _):
        requests.post(f"{url}/predict_api", json=body, timeout=120)
        done = []
        stop = time.perf_counter() + seconds

        def client():
            session = requests.Session()
            while time.perf_counter() < stop:
                if session.post(f"{url}/predict_api", json=body, timeout=120).status_code == 200:
                    done.append(1)

        threads = [threading.Thread(target=client) for _ in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    print(f"{'throughput, 8 clients, 640x480, 3 faces (answers/s)':58s} {len(done) / seconds:8.1f}")


def camera(seconds: float = 15) -> None:
    from playwright.sync_api import expect, sync_playwright

    from tests.support.pages import CHROMIUM, FLAGS, fake_camera_flags

    if not (REPO_ROOT / "hosting" / "build").is_dir():
        # The pages' bundle, as scripts/start and the tests build it.
        subprocess.run(["bash", str(REPO_ROOT / "scripts" / "build_hosting.sh")], check=True)
    with tempfile.TemporaryDirectory() as folder:
        flags = fake_camera_flags(PHOTOS / CAMERA_PHOTO, Path(folder) / "faces.y4m")
        with server() as (url, _, _), sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS + flags)
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            page.goto(f"{url}/camera.html")
            page.wait_for_selector("#model-slot select")
            page.get_by_role("button", name="Start camera").click()
            expect(page.locator("#overlay")).not_to_have_attribute("data-faces", "0", timeout=120_000)
            time.sleep(seconds)  # the page measures its own rate over its last 3 s
            fps, latency = page.locator("#fps").text_content(), page.locator("#latency").text_content()
            browser.close()
    print(f"{'camera page, MTCNN path (inception-resnet), Chromium + server':58s} {fps:>8s}   ({latency} a frame)")


def row(label: str, ours: list[float], theirs: list[float], unit: str = "") -> None:
    """One table row: medians of the runs, ours then the peer's, and the ratio."""
    mine = median(ours)
    text = f"{label:58s} {mine:8.2f}"
    if theirs:
        peer = median(theirs)
        text += f"   fer {peer:8.2f}   ours/fer {mine / peer:5.2f}x"
    spread = ", ".join(f"{value:.2f}" for value in ours)
    print(f"{text}   (runs: {spread})", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--skip", default="", help="rows to leave out: cold,warm,memory,camera,load")
    parser.add_argument("--no-peer", action="store_true", help="ours only")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    peer = not args.no_peer and peer_ready()
    if not peer:
        print("fer's environment is missing (scripts/peer_fer.sh failed): ours only", file=sys.stderr)
    cpus = os.cpu_count()
    print(
        f"{len(photos())} photos from {PHOTOS}; {cpus} CPUs; medians of {args.runs} runs; fer {'yes' if peer else 'no'}"
    )
    if "cold" not in skip:
        cold(args.runs, peer)
        print(
            f"{'cold start through the server (scripts/serve) to first answer (s)':58s} "
            f"{first_answer_through_server():8.2f}"
        )
    if "warm" not in skip:
        warm(args.runs, args.rounds, peer)
    if "memory" not in skip:
        memory(args.requests)
    if "camera" not in skip:
        camera()
    if "load" not in skip:
        load()
    print(f"bench process peak memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
