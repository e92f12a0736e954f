"""Memory soak: a bounded loop of mixed requests against the local server, printing resident memory over time.

    .venv/bin/python scripts/soak.py                  # starts scripts/serve on a free port, 30 minutes
    .venv/bin/python scripts/soak.py --minutes 5      # shorter
    .venv/bin/python scripts/soak.py --pid PID --url http://127.0.0.1:8080   # a server already running

Traffic stays on loopback. Every `--sample-s` seconds it prints the resident memory (RSS) of the server's process
tree (gunicorn master and workers); at the end, the value after warm-up, the largest and the last, and whether the
whole curve stayed within 20 % of the warm-up value. A benchmark, not a test: it never fails a build.
"""

import argparse
import base64
import io
import os
import random
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests
from PIL import Image

from training.data import shared_data_dir

REPO_ROOT = Path(__file__).resolve().parent.parent
PHOTOS = shared_data_dir() / "photos"


def tree_rss_mb(root_pid: int) -> float:
    """RSS of a process and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    total, stack = 0, [root_pid]
    while stack:
        pid = stack.pop()
        stack.extend(children.get(pid, []))
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def jpeg_b64(image: Image.Image) -> str:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=90)
    return base64.b64encode(buffer.getvalue()).decode()


def requests_mix(url: str, token: str) -> list:
    """(weight, method, path, json, headers): ordinary photos, a large one, bad input, history pages."""
    with Image.open(PHOTOS / "dlib_2008_001322.jpg") as photo:
        small = jpeg_b64(photo.resize((640, 480)))
        large = jpeg_b64(photo.resize((4000, 3000)))
    bearer = {"Authorization": f"Bearer {token}"}
    return [
        (30, "POST", "/predict_api", {"image": small}, {}),
        (15, "POST", "/predict_api", {"image": small, "model": "mobilenetv2"}, {}),
        (15, "POST", "/predict_img_only_api", {"image": small, "model": "yolo3"}, {}),
        (5, "POST", "/predict_upload_api", {"image": small, "img_name": "soak.jpg"}, bearer),
        (3, "POST", "/predict_api", {"image": large}, {}),
        (10, "POST", "/predict_api", {"image": "bm90IGEgcGhvdG8="}, {}),
        (10, "GET", "/history_api?limit=20", None, bearer),
        (12, "GET", "/models_api", None, {}),
    ]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--warm-up-minutes", type=float, default=2)
    parser.add_argument("--sample-s", type=float, default=30)
    parser.add_argument("--url", help="a running server (with --pid); default: start scripts/serve")
    parser.add_argument("--pid", type=int, help="the running server's main process")
    args = parser.parse_args(argv)

    server = None
    url, pid = args.url, args.pid
    if url is None:
        port = free_port()
        env = {**os.environ, "PORT": str(port), "MOODLENS_DATA_DIR": f"/tmp/moodlens-soak-{port}"}
        server = subprocess.Popen(
            ["bash", str(REPO_ROOT / "scripts" / "serve")],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url, pid = f"http://127.0.0.1:{port}", server.pid
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                requests.get(f"{url}/models_api", timeout=2)
                break
            # Refused before gunicorn listens, timed out while its worker warms the models: not up yet, either way.
            except (requests.ConnectionError, requests.Timeout):
                time.sleep(0.5)
    try:
        run(url, pid, args)
    finally:
        if server:
            server.terminate()
            server.wait(timeout=30)


def run(url: str, pid: int, args) -> None:
    session = requests.Session()
    email = f"soak-{random.randrange(10**9)}@example.com"
    account = session.post(f"{url}/auth_signup_api", json={"email": email, "password": "soak test password 7"})
    mix = requests_mix(url, account.json()["token"])
    weights = [weight for weight, *_ in mix]
    rng = random.Random(7)
    start = time.monotonic()
    next_sample, sent, statuses, curve = start, 0, {}, []
    print(f"{'minute':>7s} {'requests':>9s} {'RSS MB':>8s}")
    while (now := time.monotonic()) - start < args.minutes * 60:
        _, method, path, body, headers = rng.choices(mix, weights)[0]
        reply = session.request(method, url + path, json=body, headers=headers, timeout=120)
        statuses[reply.status_code] = statuses.get(reply.status_code, 0) + 1
        sent += 1
        if now >= next_sample:
            rss = tree_rss_mb(pid)
            curve.append(((now - start) / 60, rss))
            print(f"{(now - start) / 60:7.1f} {sent:9d} {rss:8.0f}", flush=True)
            next_sample += args.sample_s
    settled = [rss for minute, rss in curve if minute >= args.warm_up_minutes]
    if not settled:
        print("too short to pass the warm-up")
        return
    base = settled[0]
    worst = max(abs(rss - base) / base for rss in settled)
    print(f"requests {sent}, statuses {dict(sorted(statuses.items()))}")
    print(
        f"RSS after warm-up {base:.0f} MB, largest {max(settled):.0f} MB, last {settled[-1]:.0f} MB; "
        f"largest change {worst:.0%} ({'within' if worst <= 0.2 else 'OVER'} 20 %)"
    )


if __name__ == "__main__":
    sys.exit(main())
