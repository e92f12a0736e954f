"""Upload page (home): a photo in, one face card per face the API finds, plain messages for bad files."""

import base64
import io

import pytest
import requests
from PIL import Image, ImageFilter
from playwright.sync_api import expect

from tests.support import images
from tests.support.pages import api_sign_up, submit_account_form, unique_email

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
    token = api_sign_up(site, email)
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
    # An example photo is saved like any other.
    page.get_by_role("button", name="Try the example: astronaut").click()
    expect(page.locator(".result .face-card").first).to_be_visible()
    expect(page.get_by_role("link", name="Open it")).to_be_visible()
    assert history_count(site, token["token"]) == 4


@pytest.mark.parametrize(("example", "key"), [("astronaut", None), ("cameraman", "Enter")])
def test_an_example_photo_runs_like_a_chosen_one(new_page, example, key, screenshot):
    page = new_page("/")
    chosen_model(page)
    button = page.get_by_role("button", name=f"Try the example: {example}")
    # By mouse, or from the keyboard.
    if key:
        button.press(key)
    else:
        button.click()
    expect(page.locator("#preview")).to_be_visible()
    expect(page.locator(".result .face-card").first).to_be_visible()
    expect(page.locator(".result .face-box").first).to_have_text("1")
    expect(page.locator(".result .downloads")).to_be_visible()
    screenshot(page, f"upload-example-{example}")


GROUP_PHOTO = "dlib_bald_guys.jpg"  # 24 faces in rows
SMALL_FACES_PHOTO = "dlib_2007_007763.jpg"  # 7 faces of 27-39 px (MTCNN's boxes); at 70 %, four are under 24 px
PORTRAIT_PHOTO = "deepface_img17.jpg"  # one sharp face of about 200 px
# Cut inside its face (0.76 times MTCNN's box), which then overfills the frame: yolo3 misses it (cut 0.68-0.84 times
# the box, measured through the API; at 0.9 and some larger cuts the eighth cycle finds it), MTCNN does not.
CLOSE_UP_PHOTO = "deepface_img24.jpg"


OUTSIDE_THE_PHOTO = """boxes => {
  const photo = document.querySelector(".result .prediction__photo img").getBoundingClientRect();
  return boxes.map((box) => box.getBoundingClientRect()).filter((box) => box.left < photo.left - 1
    || box.right > photo.right + 1 || box.top < photo.top - 1 || box.bottom > photo.bottom + 1);
}"""


def predict(site, photo, model):
    body = {"image": base64.b64encode(photo.read_bytes()).decode(), "model": model}
    return requests.post(f"{site}/predict_api", json=body, timeout=120).json()


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_group_photo_has_numbered_boxes_linked_to_cards(new_page, photos_dir, viewport, screenshot):
    page = new_page("/", viewport)
    chosen_model(page)
    page.set_input_files("#file", str(photos_dir / GROUP_PHOTO))
    cards = page.locator(".result .face-card")
    boxes = page.locator(".result .face-box")
    expect(cards.first).to_be_visible()
    count = cards.count()
    assert count >= 7
    expect(boxes).to_have_count(count)
    expect(page.locator(".result .face-grid--compact")).to_be_visible()
    assert [cards.nth(i).get_attribute("data-face") for i in range(count)] == [str(n) for n in range(1, count + 1)]
    assert [boxes.nth(i).inner_text() for i in range(count)] == [str(n) for n in range(1, count + 1)]

    # Numbers keep a readable size on a phone, and every box lies on the photo.
    number_px = float(boxes.first.locator(".face-number").evaluate("el => parseFloat(getComputedStyle(el).fontSize)"))
    assert number_px >= 12
    # Measured in one go: the result scrolls smoothly into view, so separate reads could straddle a scroll step.
    outside = boxes.evaluate_all(OUTSIDE_THE_PHOTO)
    assert outside == [], outside

    # A card lights its box, a box its card; keyboard focus on a card does the same.
    cards.nth(4).hover()
    expect(boxes.nth(4)).to_have_class("face-box is-active")
    expect(page.locator(".result .face-box.is-active")).to_have_count(1)
    boxes.nth(2).hover()
    expect(cards.nth(2)).to_have_class("face-card is-active")
    page.mouse.move(0, 0)
    cards.nth(6).focus()
    expect(boxes.nth(6)).to_have_class("face-box is-active")
    screenshot(page, "upload-group")


def jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


def test_weak_calls_small_faces_and_blurred_faces_are_flagged(new_page, site, photos_dir, tmp_path):
    """Badges follow the answer: "Uncertain" under a 40 % top emotion, and each of the face's quality reasons."""
    page = new_page("/")
    model = chosen_model(page)
    small_faces = Image.open(photos_dir / SMALL_FACES_PHOTO).convert("RGB")
    small_faces = small_faces.resize((small_faces.width * 7 // 10, small_faces.height * 7 // 10), Image.LANCZOS)
    blurred = Image.open(photos_dir / PORTRAIT_PHOTO).convert("RGB").filter(ImageFilter.GaussianBlur(6))
    for name, image, reason, text in [
        ("small.jpg", small_faces, "small_face", "Small face"),
        ("blurred.jpg", blurred, "low_detail", "Blurred face"),
    ]:
        photo = tmp_path / name
        photo.write_bytes(jpeg(image))
        answer = predict(site, photo, model)
        flagged = sum(reason in face["quality"]["reasons"] for face in answer["faces"])
        uncertain = sum(face["prediction"][0]["probability"] < 0.4 for face in answer["faces"])
        assert flagged > 0, answer["faces"]
        page.set_input_files("#file", str(photo))
        expect(page.locator(".result .face-card")).to_have_count(len(answer["faces"]))
        expect(page.locator(".result .badge--warning").filter(has_text=text)).to_have_count(flagged)
        expect(page.locator(".result .badge--uncertain")).to_have_count(uncertain)


def test_model_picker_speaks_plainly(new_page):
    page = new_page("/")
    chosen_model(page)
    picker = page.locator(".model-picker")
    for words in ("Most accurate", "Fastest", "Experimental: one pass", "times in 10 on a standard test set"):
        expect(picker).to_contain_text(words)
    for jargon in ("stem", "residual", "bottleneck"):
        expect(picker).not_to_contain_text(jargon)
    # The accuracy is information, not a pass mark: not in the success green.
    accuracy = picker.locator(".model-option__accuracy").first
    muted = picker.locator(".model-option__description").first.evaluate("el => getComputedStyle(el).color")
    assert accuracy.evaluate("el => getComputedStyle(el).color") == muted


def test_a_server_error_offers_retry_and_the_same_file_runs_again(new_page, photos_dir):
    page = new_page("/")
    chosen_model(page)
    photo = str(photos_dir / images.FACES_PHOTO)
    failure = {"status": 500, "content_type": "application/json", "body": '{"error": "internal", "code": "internal"}'}
    page.route("**/predict_api", lambda route: route.fulfill(**failure), times=1)
    page.set_input_files("#file", photo)
    expect(page.get_by_role("alert")).to_have_text("Internal error.")
    page.get_by_role("button", name="Retry").click()
    expect(page.locator(".result .face-card").first).to_be_visible()

    page.route("**/predict_api", lambda route: route.fulfill(**failure), times=1)
    page.set_input_files("#file", photo)
    expect(page.get_by_role("alert")).to_have_text("Internal error.")
    # The same file picked again is a new try.
    page.set_input_files("#file", photo)
    expect(page.locator(".result .face-card").first).to_be_visible()
    expect(page.get_by_role("button", name="Retry")).to_be_hidden()


def test_a_slow_first_prediction_says_the_model_is_warming_up(new_page, photos_dir):
    page = new_page("/")
    chosen_model(page)
    held = []
    page.route("**/predict_api", lambda route: held.append(route), times=1)
    page.set_input_files("#file", str(photos_dir / images.FACES_PHOTO))
    expect(page.locator("#status-text")).to_contain_text("Warming up the model, only the first time")
    held[0].continue_()
    expect(page.locator(".result .face-card").first).to_be_visible()


def test_a_failed_model_list_keeps_a_way_back(new_page):
    page = new_page("/", in_browser=None)
    page.route(
        "**/models_api",
        lambda route: route.fulfill(status=503, content_type="application/json", body='{"error": "down"}'),
        times=1,
    )
    page.reload()
    expect(page.locator("#models").get_by_role("alert")).to_be_visible()
    page.get_by_role("button", name="Try again").click()
    expect(page.locator("input[name=model]").first).to_be_visible()


def test_no_face_advice_fits_the_model_and_offers_the_best_one(new_page, site, photos_dir, tmp_path):
    source = photos_dir / CLOSE_UP_PHOTO
    x, y, width, height = predict(site, source, "inception-resnet")["faces"][0]["box"]
    half = 0.38 * max(width, height)
    centre_x, centre_y = x + width / 2, y + height / 2
    close_up = (
        Image.open(source)
        .convert("RGB")
        .crop((round(centre_x - half), round(centre_y - half), round(centre_x + half), round(centre_y + half)))
    )
    photo = tmp_path / "close-up.jpg"
    photo.write_bytes(jpeg(close_up))
    assert predict(site, photo, "yolo3")["found"] is False
    page = new_page("/")
    chosen_model(page)
    page.locator("input[name=model][value=yolo3]").check()
    page.set_input_files("#file", str(photo))
    expect(page.get_by_role("heading", name="No faces found")).to_be_visible()
    expect(page.locator(".result")).not_to_contain_text("larger")
    page.get_by_role("button", name="Try with Inception-ResNet").click()
    expect(page.get_by_role("heading", name="1 face found")).to_be_visible()
    expect(page.locator("input[name=model][value=inception-resnet]")).to_be_checked()


def test_a_mistyped_address_gets_a_page(new_page, site):
    page = new_page("/")
    reply = page.goto("/no/such/page.html")
    assert reply.status == 404
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    page.get_by_role("link", name="History").click()
    page.wait_for_url(f"{site}/history.html")
