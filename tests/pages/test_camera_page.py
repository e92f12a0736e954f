"""Camera page: Chromium's fake camera plays a video made from a photo with faces; boxes appear over it."""

import re

import pytest
import requests
from playwright.sync_api import expect

from tests.support import images
from tests.support.pages import api_sign_up, fake_camera_flags, launch, submit_account_form, unique_email

pytestmark = pytest.mark.e2e

MEASURED_FPS = re.compile(r"^(?!0\.0 )\d+\.\d fps$")

OVERLAY_INK = """canvas => {
  const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let ink = 0;
  for (let i = 3; i < pixels.length; i += 4) if (pixels[i]) ink++;
  return ink;
}"""


BLACK_INK = """canvas => {
  const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let black = 0;
  for (let i = 0; i < pixels.length; i += 4) {
    if (pixels[i + 3] === 255 && !pixels[i] && !pixels[i + 1] && !pixels[i + 2]) black++;
  }
  return black;
}"""


@pytest.fixture(scope="module")
def camera_browser(playwright_session, photos_dir, tmp_path_factory):
    video = tmp_path_factory.mktemp("camera") / "faces.y4m"
    browser = launch(playwright_session, fake_camera_flags(photos_dir / images.FACES_PHOTO, video))
    yield browser
    browser.close()


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_fake_camera_gets_boxes_and_a_frame_rate(new_page, camera_browser, viewport, screenshot):
    page = new_page("/camera.html", viewport, in_browser=camera_browser)
    page.wait_for_selector("#model-slot select")
    screenshot(page, "camera-idle")
    page.get_by_role("button", name="Start camera").click()
    overlay = page.locator("#overlay")
    expect(overlay).not_to_have_attribute("data-faces", "0")
    assert overlay.evaluate(OVERLAY_INK) > 0, "the boxes are drawn on the overlay"
    # A measured, non-zero rate; waited for with expect, since the pages' CSP forbids wait_for_function's eval.
    expect(page.locator("#fps")).to_have_text(MEASURED_FPS)
    assert float(page.locator("#fps").text_content().removesuffix(" fps")) > 0
    expect(page.locator("#latency")).to_contain_text("ms")
    # Labels are written in black on the emotion's colour (4.5:1 or more on each, see test_annotate.py).
    assert overlay.evaluate(BLACK_INK) > 0
    # Screen readers hear the faces: a polite list, in words.
    faces = page.locator("#live-faces")
    expect(faces).to_have_attribute("aria-live", "polite")
    expect(faces.locator("li").first).to_have_text(re.compile(r"^Face 1: [A-Z][a-z]+, \d+%$"))
    # The whole video and its figures fit a laptop's screen, figures over the video.
    stage = page.locator("#stage").bounding_box()
    if viewport == "desktop":
        assert stage["y"] + stage["height"] <= page.viewport_size["height"]
    stats = page.locator(".stats").bounding_box()
    assert stage["y"] <= stats["y"] and stats["y"] + stats["height"] <= stage["y"] + stage["height"]
    screenshot(page, "camera-live")

    page.get_by_role("button", name="Stop").click()
    expect(page.get_by_role("button", name="Start camera")).to_be_visible()
    assert overlay.evaluate(OVERLAY_INK) == 0
    expect(faces).to_have_text("The camera is off.")


def test_snapshot_saves_one_prediction_and_live_frames_none(new_page, camera_browser, site):
    email = unique_email()
    token = api_sign_up(site, email)
    page = new_page("/account.html?next=camera.html", in_browser=camera_browser)
    submit_account_form(page, email)
    page.get_by_role("button", name="Start camera").click()
    expect(page.locator("#overlay")).not_to_have_attribute("data-faces", "0")
    # A measured, non-zero rate; waited for with expect, since the pages' CSP forbids wait_for_function's eval.
    expect(page.locator("#fps")).to_have_text(MEASURED_FPS)
    page.get_by_role("button", name="Save snapshot").click()
    expect(page.get_by_role("status").filter(has_text="Snapshot saved")).to_be_visible()
    saved_id = page.get_by_role("link", name="Open it").get_attribute("href").split("#", 1)[1]
    page.get_by_role("button", name="Stop").click()

    history = requests.get(
        f"{site}/history_api", timeout=30, headers={"Authorization": f"Bearer {token['token']}"}
    ).json()
    assert [item["id"] for item in history["items"]] == [saved_id]
    assert history["items"][0]["faces"], "the snapshot has the faces of the video"


@pytest.mark.parametrize(
    "case, flags, text",
    [
        # Permission granted without asking, but no fake device: the machine has no camera at all.
        ("absent", ["--use-fake-ui-for-media-stream"], "No camera was found"),
        # A camera, but nobody to accept the permission prompt: headless Chromium answers it "Block".
        ("refused", ["--use-fake-device-for-media-stream"], "Camera access was blocked"),
    ],
)
def test_camera_absent_or_refused_gives_a_message(new_page, playwright_session, case, flags, text, screenshot):
    browser = launch(playwright_session, flags)
    try:
        page = new_page("/camera.html", in_browser=browser)
        page.get_by_role("button", name="Start camera").click()
        expect(page.get_by_role("alert")).to_contain_text(text)
        expect(page.locator("#video")).to_be_hidden()
        expect(page.get_by_role("button", name="Start camera")).to_be_enabled()
        screenshot(page, f"camera-{case}")
    finally:
        browser.close()
