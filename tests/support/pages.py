"""Helpers of the browser tests (plain functions and constants; the fixtures are in conftest.py)."""

import subprocess
import uuid

import requests
from playwright.sync_api import expect

CHROMIUM = "/usr/bin/chromium"
# Needed on our machines (../shared/STACK-NOTES.md): no sandbox in containers, no GPU, no calls home.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORTS = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
PASSWORD = "correct horse battery"
# Waits, not timing checks: the first prediction loads the models, slowly on a busy 2-core machine.
WAIT_MS = 120_000
expect.set_options(timeout=WAIT_MS)


def fake_camera_flags(photo, video):
    """Chromium's flags for a camera that films `photo`: a 2 s video of it, written to `video` (a .y4m path)."""
    subprocess.run(
        # Chromium's y4m reader wants even sides (it plays a 2x2 picture otherwise).
        ["ffmpeg", "-loglevel", "error", "-loop", "1", "-i", str(photo), "-vf", "scale=640:-2", "-t", "2", "-r", "15"]
        + ["-pix_fmt", "yuv420p", str(video)],
        check=True,
    )
    return [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    ]


def launch(playwright, extra_flags=()):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS + list(extra_flags))


def visitor_headers():
    """A client address of its own (TEST-NET-2, RFC 5737, plus one more octet's worth): separate visitors, as the
    server's rate limits see them."""
    suffix = uuid.uuid4().int
    return {"X-Forwarded-For": f"198.51.{suffix % 256}.{(suffix >> 8) % 256}"}


def api_sign_up(site, email):
    """A new local account made through the API by a visitor of its own; returns the sign-up answer (token, uid)."""
    reply = requests.post(
        f"{site}/auth_signup_api", json={"email": email, "password": PASSWORD}, headers=visitor_headers(), timeout=30
    )
    reply.raise_for_status()
    return reply.json()


def unique_email():
    return f"pages-{uuid.uuid4().hex[:12]}@example.com"


def offered_model(site):
    """The model the pages start with: the default when its card is installed, else the first one listed."""
    offer = requests.get(f"{site}/models_api", timeout=30).json()
    names = [model["name"] for model in offer["models"]]
    return offer["default"] if offer["default"] in names else names[0]


def submit_account_form(page, email, password=PASSWORD):
    """Fills and submits account.html's form, in whichever mode it shows (sign in, or create account)."""
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.locator("#auth-submit").click()
