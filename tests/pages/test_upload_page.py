"""Upload page (home): a photo in, one face card per face the API finds, plain messages for bad files."""

import base64

import pytest
import requests
from playwright.sync_api import expect

from tests.support import images
from tests.support.pages import PASSWORD, submit_account_form, unique_email

pytestmark = pytest.mark.e2e

IMAGE_MESSAGE = "We couldn't read that file as a photo"


def chosen_model(page):
    page.wait_for_selector("input[name=model]")
    return page.locator("input[name=model]:checked").get_attribute("value")


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_photo_gives_one_card_per_face_with_seven_bars(new_page, site, photos_dir, viewport, screenshot):
    page = new_page("/", viewport)
    model = chosen_model(page)
    photo = photos_dir / images.FACES_PHOTO
    page.set_input_files("#file", str(photo))
    expect(page.locator(".result")).to_be_visible()

    answer = requests.post(
        f"{site}/predict_api",
        timeout=120,
        json={"image": base64.b64encode(photo.read_bytes()).decode(), "model": model},
    ).json()
    assert answer["found"] and answer["model"] == model
    cards = page.locator(".face-card")
    expect(cards).to_have_count(len(answer["faces"]))
    for index in range(cards.count()):
        meters = cards.nth(index).locator(".bar__track")
        expect(meters).to_have_count(7)
        values = [float(meters.nth(i).get_attribute("aria-valuenow")) for i in range(7)]
        assert values == sorted(values, reverse=True), "the most probable emotion comes first"
    expect(page.locator(".prediction__photo img")).to_have_js_property("complete", True)
    assert page.locator(".prediction__photo img").evaluate("img => img.naturalWidth") > 0
    # Anonymous visitors are invited to sign in rather than told it was saved, and have nothing to switch.
    expect(page.get_by_role("link", name="Sign in").first).to_be_visible()
    expect(page.get_by_role("switch", name="Save to history")).to_be_hidden()
    screenshot(page, "upload-result")


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_text_file_named_jpg_gets_the_friendly_error(new_page, tmp_path, viewport, screenshot):
    fake = tmp_path / "holiday.jpg"
    fake.write_text("these are words, not pixels\n" * 20)
    page = new_page("/", viewport)
    chosen_model(page)
    page.set_input_files("#file", str(fake))
    expect(page.get_by_role("alert")).to_contain_text(IMAGE_MESSAGE)
    expect(page.locator(".result")).to_be_hidden()
    expect(page.locator("#dropzone-empty")).to_be_visible()
    screenshot(page, "upload-error")


def test_photo_without_faces_says_so(new_page, tmp_path):
    plain = tmp_path / "sky.png"
    plain.write_bytes(images.encode(images.Image.new("RGB", (320, 240), (120, 170, 230))))
    page = new_page("/")
    chosen_model(page)
    page.set_input_files("#file", str(plain))
    expect(page.get_by_role("heading", name="No faces found")).to_be_visible()


def history_count(site, token):
    reply = requests.get(f"{site}/history_api", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    return len(reply.json()["items"])


def test_saving_is_visible_and_intentional(new_page, site, photos_dir, tmp_path, screenshot):
    email = unique_email()
    token = requests.post(f"{site}/auth_signup_api", json={"email": email, "password": PASSWORD}, timeout=30).json()
    page = new_page("/account.html?next=index.html")
    submit_account_form(page, email)
    switch = page.get_by_role("switch", name="Save to history")
    expect(switch).to_be_checked()

    page.set_input_files("#file", str(photos_dir / images.FACES_PHOTO))
    expect(page.get_by_role("link", name="Open it")).to_be_visible()
    assert history_count(site, token["token"]) == 1
    screenshot(page, "upload-saved")

    # Another model: nothing runs or saves until asked.
    other = page.locator("input[name=model]:not(:checked)").first
    other_title = other.get_attribute("value")
    requests_made = []
    page.on("request", lambda request: requests_made.append(request.url) if "predict" in request.url else None)
    other.check()
    rerun = page.get_by_role("button", name="Run again with")
    expect(rerun).to_be_visible()
    page.wait_for_timeout(500)
    assert requests_made == [] and history_count(site, token["token"]) == 1
    rerun.click()
    expect(page.get_by_role("link", name="Open it")).to_be_visible()
    expect(page.locator(".result")).to_contain_text(
        page.locator(f"input[value='{other_title}']").evaluate(
            "input => input.closest('label').querySelector('.model-option__name').textContent"
        )
    )
    assert history_count(site, token["token"]) == 2

    # Switched off: the plain endpoint, and the page says it was not saved.
    plain = tmp_path / "sky.png"
    plain.write_bytes(images.encode(images.Image.new("RGB", (320, 240), (120, 170, 230))))
    switch.uncheck()
    page.set_input_files("#file", str(plain))
    expect(page.get_by_role("heading", name="No faces found")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Not saved")).to_be_visible()
    assert history_count(site, token["token"]) == 2
    # Switched on, a photo without faces is saved too, and says so.
    switch.check()
    page.set_input_files("#file", str(plain))
    expect(page.get_by_role("link", name="Open it")).to_be_visible()
    assert history_count(site, token["token"]) == 3
