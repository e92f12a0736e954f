"""The container's health check: healthy when every model answers a prediction over HTTP.

Sends a small generated grey PNG (no face, so `found` is false: the detector and the model path still ran) to
/predict_api once per model that /models_api lists. Exit 0 healthy, 1 not. Standard library only.
  python3 healthcheck.py [URL]      (default http://127.0.0.1:$PORT)
"""

import base64
import json
import os
import struct
import sys
import urllib.request
import zlib

TIMEOUT_S = float(os.environ.get("HEALTHCHECK_TIMEOUT_S", "25"))


def grey_png(width: int = 64, height: int = 48) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x80" * (3 * width) for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def call(url: str, body: dict | None = None) -> dict:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
        return json.load(response)


def check(base_url: str) -> list[str]:
    """The models that answered; raises on the first that did not."""
    models = [model["name"] for model in call(f"{base_url}/models_api")["models"]]
    if not models:
        raise RuntimeError("no models listed")
    image = base64.b64encode(grey_png()).decode("ascii")
    for name in models:
        answer = call(f"{base_url}/predict_api", {"image": image, "model": name})
        if "found" not in answer or answer.get("model") != name:
            raise RuntimeError(f"{name}: unexpected answer {answer}")
    return models


def main() -> int:
    base_url = sys.argv[1] if len(sys.argv) > 1 else f"http://127.0.0.1:{os.environ.get('PORT', '8080')}"
    try:
        models = check(base_url.rstrip("/"))
    except Exception as error:  # any failure is "unhealthy", said in one line
        print(f"unhealthy: {error}")
        return 1
    print(f"healthy: {', '.join(models)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
