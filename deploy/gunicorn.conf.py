"""gunicorn settings of the local server (scripts/serve) and the container image (Dockerfile):
`gunicorn --config deploy/gunicorn.conf.py --chdir functions 'moodlens.app:create_app()'`.

Each setting reads an environment variable, so a deployment tunes it without a new image:
  HOST (0.0.0.0), PORT (8080, Cloud Run sets it), WEB_CONCURRENCY (workers, 1), THREADS (4), GUNICORN_TIMEOUT (120),
  GUNICORN_GRACEFUL_TIMEOUT (30), GUNICORN_MAX_REQUESTS (2000; 0 never recycles), GUNICORN_MAX_REQUESTS_JITTER (200),
  MOODLENS_WARM (1; 0 leaves the models to load on first use), FORWARDED_ALLOW_IPS (gunicorn's own variable: the
  proxies whose X-Forwarded-* headers are trusted; default 127.0.0.1).
Each worker holds its own copy of the models (LiteRT: about 200 MB with all three warm); threads share it.
"""

import json
import os

from gunicorn import util


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


bind = f"{os.environ.get('HOST', '0.0.0.0')}:{_int('PORT', 8080)}"
workers = _int("WEB_CONCURRENCY", 1)
worker_class = "gthread"
threads = _int("THREADS", 4)
# A request (one prediction on a large photo) may take seconds on a busy CPU; a worker silent for this long is killed.
timeout = _int("GUNICORN_TIMEOUT", 120)
# On SIGTERM (docker stop, Cloud Run scale-in), requests in flight get this long to finish.
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = 5
# Recycling: a worker exits after this many requests (+ random jitter, so workers do not restart together) and a
# fresh, warmed one replaces it; bounds slow memory growth. With one worker, requests wait during the warm-up.
max_requests = _int("GUNICORN_MAX_REQUESTS", 2000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 200)
# Requests carry photos in their JSON bodies (limited by the app: MOODLENS_MAX_BODY_BYTES); headers stay small.
limit_request_line = 4094
limit_request_fields = 50
limit_request_field_size = 8190
backlog = 256
# The heartbeat file lives in memory (and the image's root file system may be read-only).
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
access_log_format = '%(h)s "%(r)s" %(s)s %(B)s %(M)sms "%(a)s"'
proc_name = "moodlens"
# Models are loaded per worker, after the fork (an interpreter and its threads do not survive a fork): never preload
# the app.
preload_app = False


def post_worker_init(worker):
    """Warm the models before this worker takes its first request (connections wait in the backlog meanwhile)."""
    if os.environ.get("MOODLENS_WARM", "1") == "0":
        return
    from moodlens.warm import warm_models

    worker.log.info("worker %s: warming the models", worker.pid)
    seconds = warm_models(heartbeat=worker.notify)
    worker.log.info("worker %s: models ready %s", worker.pid, seconds)


def _json_error(sock, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn answers what it refuses itself (a URL or headers too long, broken framing) with an HTML page; the
    product's every answer is JSON, so the same refusal is written as {"error", "code"}, with the security headers
    every answer carries (functions/moodlens/api/openapi.json lists both)."""
    # Imported here: only the workers, which load the app, call this; the master reads this file without it.
    from moodlens.api.http import SECURITY_HEADERS

    body = json.dumps({"error": reason.lower(), "code": reason.lower().replace(" ", "_")}).encode()
    head = f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\nContent-Type: application/json\r\n" + "".join(
        f"{name}: {value}\r\n" for name, value in SECURITY_HEADERS.items()
    )
    util.write_nonblock(sock, head.encode("latin1") + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)


# The workers call util.write_error for those refusals; this config file is read before any worker starts.
util.write_error = _json_error
