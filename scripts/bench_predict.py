"""Warm latency of each predict endpoint on a 640x480 photo, and faces found per shared photo.

.venv/bin/python scripts/bench_predict.py                      # in-process, functions-framework apps
.venv/bin/python scripts/bench_predict.py --url http://127.0.0.1:8080   # a running scripts/serve
.venv/bin/python scripts/bench_predict.py --photos             # also: faces found vs the manifest
"""

import argparse
import base64
import io
import json
import statistics
import time
from pathlib import Path

from PIL import Image

from training.data import shared_data_dir

REPO_ROOT = Path(__file__).resolve().parent.parent
PHOTOS = shared_data_dir() / "photos"

ENDPOINTS = ["predict_api", "predict_upload_api", "predict_img_only_api"]
PHOTO = "dlib_2008_001322.jpg"  # 3 faces, resized to 640x480


def poster(url: str | None):
    if url:
        import requests

        return lambda endpoint, body: requests.post(f"{url}/{endpoint}", json=body, timeout=120).json()
    import functions_framework

    source = str(REPO_ROOT / "functions" / "main.py")
    clients = {name: functions_framework.create_app(target=name, source=source).test_client() for name in ENDPOINTS}
    return lambda endpoint, body: clients[endpoint].post("/", json=body).get_json()


def photo_640x480() -> str:
    buffer = io.BytesIO()
    with Image.open(PHOTOS / PHOTO) as photo:
        photo.convert("RGB").resize((640, 480), Image.Resampling.BICUBIC).save(buffer, "JPEG", quality=90)
    return base64.b64encode(buffer.getvalue()).decode()


def bench(post, models: list[str], repeat: int) -> None:
    image = photo_640x480()
    print(f"warm latency, {repeat} requests each, 640x480 photo with 3 faces (ms)")
    print(f"{'endpoint':22s} {'model asked':18s} {'ran':18s} {'median':>7s} {'p90':>7s}  server-side median")
    for model in models:
        for endpoint in ENDPOINTS:
            body = {"image": image, "model": model}
            answer = post(endpoint, body)  # warm-up: loads the models on first use
            times, stages = [], []
            for _ in range(repeat):
                start = time.perf_counter()
                answer = post(endpoint, body)
                times.append((time.perf_counter() - start) * 1000)
                stages.append(answer["timings_ms"])
            times.sort()
            server = {key: round(statistics.median(s[key] for s in stages), 1) for key in stages[0]}
            print(
                f"{endpoint:22s} {model:18s} {answer['model']:18s} {statistics.median(times):7.1f} "
                f"{times[int(0.9 * (repeat - 1))]:7.1f}  {server}"
            )


def photos(post, models: list[str]) -> None:
    manifest = json.loads((PHOTOS / "manifest.json").read_text())["images"]
    print("\nfaces found per photo (expected from the manifest); top emotions")
    for entry in manifest:
        data = base64.b64encode((PHOTOS / entry["file"]).read_bytes()).decode()
        cells = []
        for model in models:
            answer = post("predict_img_only_api", {"image": data, "model": model})
            faces = answer.get("faces", [])
            top = ",".join(face["prediction"][0]["emotion"] for face in faces[:8])
            cells.append(f"{answer['model']}: {len(faces)} [{top}]")
        print(
            f"{entry['file']:24s} expected {entry['num_faces']:2d} | {entry.get('expression_hint') or '-':28s} | "
            + " | ".join(cells)
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a running server; default: in-process functions-framework apps")
    parser.add_argument("--models", default="inception-resnet,mobilenetv2,yolo3")
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--photos", action="store_true", help="also list faces found on every shared photo")
    args = parser.parse_args()
    post = poster(args.url)
    models = args.models.split(",")
    bench(post, models, args.repeat)
    if args.photos:
        photos(post, models)


if __name__ == "__main__":
    main()
