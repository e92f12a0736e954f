"""What users of such apps expect: downloads of a result, the emotions guide, the privacy page, the API docs, paste
and several photos at once, and an export of the whole history as one zip."""

import base64
import io
import json
import subprocess
import zipfile

import pytest
from playwright.sync_api import expect

from tests.pages.test_history_pages import account_with_predictions
from tests.support import images
from tests.support.pages import offered_model, submit_account_form, visitor_headers

pytestmark = pytest.mark.e2e

JPEG_MAGIC = b"\xff\xd8\xff"


def test_a_result_downloads_as_an_annotated_image_and_json(new_page, photos_dir):
    page = new_page("/")
    page.wait_for_selector("input[name=model]")
    page.set_input_files("#file", str(photos_dir / images.FACES_PHOTO))
    cards = page.locator(".result .face-card")
    expect(cards.first).to_be_visible()
    with page.expect_download() as image_download:
        page.get_by_role("link", name="Download annotated image").click()
    assert image_download.value.suggested_filename == "dlib_2008_001322-moodlens.jpg"
    assert image_download.value.path().read_bytes().startswith(JPEG_MAGIC)
    with page.expect_download() as json_download:
        page.get_by_role("link", name="Download JSON").click()
    data = json.loads(json_download.value.path().read_text())
    assert data["found"] is True and len(data["faces"]) == cards.count()
    assert all(set(face) == {"prediction", "box", "confidence", "quality"} for face in data["faces"])
    assert "image" not in data


def test_the_emotions_guide_explains_the_seven_and_their_limits(new_page):
    page = new_page("/")
    guide = page.locator(".emotions-guide")
    guide.get_by_text("What these emotions mean").click()
    terms = guide.locator("dt").all_inner_texts()
    assert terms == ["Angry", "Disgust", "Fear", "Happy", "Sad", "Surprise", "Neutral"]
    expect(guide).to_contain_text("An expression is not a feeling")
    expect(guide).to_contain_text("7 times in 10")


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_privacy_page_says_what_is_kept_and_how_to_delete_it(new_page, viewport, screenshot):
    page = new_page("/", viewport)
    page.get_by_role("link", name="Privacy").click()
    expect(page.get_by_role("heading", name="Privacy", exact=True)).to_be_visible()
    for heading in ("What is not stored", "What is stored when you save", "Where", "For how long", "How to delete"):
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    page.get_by_role("link", name="account page").click()
    page.wait_for_url("**/account.html")
    screenshot(page, "account-from-privacy")


def test_docs_render_the_openapi_description_with_curl_that_works(new_page, site, repo_root):
    page = new_page("/docs")
    spec = json.loads((repo_root / "functions" / "moodlens" / "api" / "openapi.json").read_text())
    operations = [
        f"{method.upper()} {path}"
        for path, item in spec["paths"].items()
        for method in item
        if method in ("get", "post", "delete")
    ]
    expect(page.locator(".docs-op h2")).to_have_count(len(operations))
    assert page.locator(".docs-op h2").all_inner_texts() == operations
    # The models example, copied as shown, runs and answers the spec's JSON.
    example = page.locator("#get-models_api pre").inner_text()
    assert example.startswith(f'curl -X GET "{site}/models_api"')
    answer = json.loads(subprocess.run(["bash", "-c", example + " -s"], capture_output=True, check=True).stdout)
    assert answer["default"] and answer["models"]
    predict = page.locator("#post-predict_api pre").inner_text()
    assert "base64 -w0 photo.jpg" in predict
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.locator("#get-models_api").get_by_role("button", name="Copy").click()
    expect(page.locator("#get-models_api").get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == example


PASTE = """async ([name, b64]) => {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const data = new DataTransfer();
  data.items.add(new File([bytes], name, { type: "image/jpeg" }));
  document.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true }));
}"""


def test_a_pasted_image_is_analysed(new_page, photos_dir):
    page = new_page("/")
    page.wait_for_selector("input[name=model]")
    photo = (photos_dir / images.FACES_PHOTO).read_bytes()
    page.evaluate(PASTE, ["pasted.jpg", base64.b64encode(photo).decode()])
    expect(page.locator(".result .face-card").first).to_be_visible()


def test_several_photos_get_a_result_each_in_turn(new_page, photos_dir, tmp_path):
    page = new_page("/")
    page.wait_for_selector("input[name=model]")
    sky = tmp_path / "sky.png"
    sky.write_bytes(images.encode(images.Image.new("RGB", (320, 240), (120, 170, 230))))
    page.set_input_files("#file", [str(photos_dir / images.FACES_PHOTO), str(sky)])
    expect(page.locator(".result .face-card").first).to_be_visible()
    page.get_by_role("button", name="Next photo: sky.png (2 of 2)").click()
    expect(page.get_by_role("heading", name="No faces found")).to_be_visible()
    expect(page.locator("#next")).to_be_hidden()


def test_history_exports_as_one_zip(new_page, site, photos_dir):
    email = account_with_predictions(site, photos_dir, 2)
    page = new_page("/account.html?next=history.html")
    submit_account_form(page, email)
    expect(page.locator(".history-item")).to_have_count(2)
    with page.expect_download() as download:
        page.get_by_role("button", name="Export all").click()
    archive = zipfile.ZipFile(io.BytesIO(download.value.path().read_bytes()))
    assert archive.testzip() is None, "every CRC matches"
    data = json.loads(archive.read("history.json"))
    assert len(data["records"]) == 2 and {record["model"] for record in data["records"]} == {offered_model(site)}
    ids = {record["id"] for record in data["records"]}
    assert ids == set(page.locator(".history-item").evaluate_all("els => els.map((el) => el.dataset.id)"))
    for record in data["records"]:
        assert record["img_name"] == images.FACES_PHOTO and record["faces"]
        for kind in ("original", "annotated"):
            assert archive.read(record[kind]).startswith(JPEG_MAGIC)
    assert sorted(archive.namelist()) == sorted(
        ["history.json"] + [f"images/{i}-{kind}.jpg" for i in ids for kind in ("original", "annotated")]
    )
    expect(page.get_by_role("status").filter(has_text="Exported 2 predictions")).to_be_visible()


SCRIPTED_CONTROLS = {
    "/": ["#file", ".example >> nth=0", ".example >> nth=1"],
    "/camera.html": ["#start"],
    "/account.html": ["#tab-signin", "#tab-signup", "#auth-submit"],
}


def test_controls_wait_for_the_pages_script(browser, new_page, site):
    """Before the script has loaded (here: never), a click would do nothing and Enter in the sign-in form would send
    the password in the address; so those controls start disabled and the script enables them."""
    context = browser.new_context(base_url=site, java_script_enabled=False, extra_http_headers=visitor_headers())
    try:
        page = context.new_page()
        for path, selectors in SCRIPTED_CONTROLS.items():
            page.goto(path)
            for selector in selectors:
                expect(page.locator(selector)).to_be_disabled()
        page.get_by_label("Password").fill("a password typed early")
        page.get_by_label("Password").press("Enter")
        assert "password" not in page.url
    finally:
        context.close()
    for path, selectors in SCRIPTED_CONTROLS.items():
        page = new_page(path)
        for selector in selectors:
            expect(page.locator(selector)).to_be_enabled()
