"""Accounts and history through the pages (local accounts, the server's default): sign up, upload, find the
prediction in History, open it, delete it; another user never sees it."""

import base64

import pytest
import requests
from playwright.sync_api import expect

from tests.support import images
from tests.support.pages import PASSWORD, api_sign_up, offered_model, submit_account_form, unique_email

pytestmark = pytest.mark.e2e


def sign_up(page, email):
    page.goto("/account.html?mode=signup&next=index.html")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account", exact=True).last.click()
    # The server answers /index.html with a redirect to /.
    page.wait_for_url(lambda url: url.endswith("/"))
    expect(page.locator(".account__email")).to_have_text(email)


def upload(page, photo):
    page.wait_for_selector("input[name=model]")
    page.set_input_files("#file", str(photo))
    link = page.get_by_role("link", name="Open it")
    expect(link).to_be_visible()
    return link.get_attribute("href").split("#", 1)[1]


def test_sign_up_upload_open_delete_and_privacy(new_page, photos_dir, screenshot):
    page = new_page("/")
    sign_up(page, unique_email())
    photo = photos_dir / images.FACES_PHOTO
    record_id = upload(page, photo)
    faces_on_upload = page.locator(".result .face-card").count()

    page.get_by_role("link", name="History").click()
    item = page.locator(f'.history-item[data-id="{record_id}"]')
    expect(item).to_be_visible()
    expect(page.locator(".chart svg rect").first).to_be_visible()
    # One day so far: one bar, a segment per top emotion, each named in the legend.
    expect(page.locator(".chart svg rect")).to_have_count(page.locator(".chart__legend li").count())
    screenshot(page, "history")

    item.click()
    dialog = page.locator("#detail")
    expect(dialog.locator(".face-card")).to_have_count(faces_on_upload)
    expect(dialog.locator(".face-card").first.locator(".bar")).to_have_count(7)
    expect(dialog.locator("#detail-title")).to_have_text(images.FACES_PHOTO)
    screenshot(page, "history-detail")

    # Kept for the second user's check below: a second prediction of the same account.
    page.goto("/")
    kept_id = upload(page, photo)

    page.goto(f"/history.html#{record_id}")
    expect(dialog.locator(".face-card")).to_have_count(faces_on_upload)
    dialog.get_by_role("button", name="Delete this prediction").click()
    page.locator("#confirm-one").get_by_role("button", name="Delete", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="deleted")).to_be_visible()
    expect(page.locator(f'.history-item[data-id="{record_id}"]')).to_have_count(0)
    page.reload()
    expect(page.locator(f'.history-item[data-id="{kept_id}"]')).to_be_visible()
    expect(page.locator(f'.history-item[data-id="{record_id}"]')).to_have_count(0)

    other = new_page("/")
    sign_up(other, unique_email())
    other.goto("/history.html")
    expect(other.get_by_role("heading", name="No predictions yet")).to_be_visible()
    expect(other.locator(".history-item")).to_have_count(0)
    other.goto(f"/history.html#{kept_id}")
    expect(other.locator("#detail-title")).to_have_text("Could not open this prediction")
    expect(other.locator("#detail")).to_contain_text("not found")


def account_with_predictions(site, photos_dir, count):
    """A new account with `count` predictions saved through the API; returns its email."""
    email = unique_email()
    session = api_sign_up(site, email)
    body = {
        "image": base64.b64encode((photos_dir / images.FACES_PHOTO).read_bytes()).decode(),
        "img_name": images.FACES_PHOTO,
        "model": offered_model(site),
    }
    for _ in range(count):
        saved = requests.post(
            f"{site}/predict_upload_api",
            json=body,
            timeout=120,
            headers={"Authorization": f"Bearer {session['token']}"},
        ).json()
        assert "id" in saved
    return email


def test_delete_all_asks_first(new_page, site, photos_dir):
    email = account_with_predictions(site, photos_dir, 2)
    page = new_page("/account.html?next=history.html")
    submit_account_form(page, email)
    expect(page.locator(".history-item")).to_have_count(2)

    page.get_by_role("button", name="Delete all").click()
    page.get_by_role("button", name="Cancel").click()
    expect(page.locator(".history-item")).to_have_count(2)

    page.get_by_role("button", name="Delete all").click()
    page.get_by_role("button", name="Delete everything").click()
    expect(page.get_by_role("status").filter(has_text="2 predictions were deleted")).to_be_visible()
    expect(page.locator(".history-item")).to_have_count(0)
    page.reload()
    expect(page.get_by_role("heading", name="No predictions yet")).to_be_visible()


def test_opening_a_record_focuses_close_and_deleting_asks_first(new_page, site, photos_dir):
    email = account_with_predictions(site, photos_dir, 1)
    page = new_page("/account.html?next=history.html")
    submit_account_form(page, email)
    item = page.locator(".history-item")
    dialog = page.locator("#detail")

    # Enter or Space right after opening a record closes it: it used to delete it.
    for key in ("Enter", " "):
        item.click()
        expect(dialog.get_by_role("button", name="Close")).to_be_focused()
        page.keyboard.press(key)
        expect(dialog).to_be_hidden()
        expect(item).to_have_count(1)

    item.click()
    expect(dialog.locator(".face-card").first).to_be_visible()
    dialog.get_by_role("button", name="Delete this prediction").click()
    confirm = page.locator("#confirm-one")
    expect(confirm.get_by_role("button", name="Keep it")).to_be_focused()
    page.keyboard.press("Enter")
    expect(confirm).to_be_hidden()
    # Escape after a "Keep it" must not reuse an earlier answer either.
    dialog.get_by_role("button", name="Delete this prediction").click()
    page.keyboard.press("Escape")
    expect(confirm).to_be_hidden()
    # Still there on the server: the reload reopens it from the address.
    page.reload()
    expect(item).to_have_count(1)
    expect(dialog.locator(".face-card").first).to_be_visible()

    dialog.get_by_role("button", name="Delete this prediction").click()
    confirm.get_by_role("button", name="Delete", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="deleted")).to_be_visible()
    expect(item).to_have_count(0)


def visible_boxes_overlap(locator):
    boxes = [locator.nth(i).bounding_box() for i in range(locator.count())]
    return any(a["x"] + a["width"] > b["x"] for a, b in zip(boxes, boxes[1:]))


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_history_cards_count_emotions_and_the_chart_counts_faces(new_page, site, photos_dir, viewport, screenshot):
    email = account_with_predictions(site, photos_dir, 2)
    page = new_page("/account.html?next=history.html", viewport)
    submit_account_form(page, email)
    items = page.locator(".history-item")
    expect(items).to_have_count(2)
    card = items.first
    expect(card.locator(".history-item__name")).to_have_text(images.FACES_PHOTO)
    # One chip per emotion, with its count: they add up to the faces, and no emotion is repeated.
    chips = card.locator(".chip")
    texts = [chips.nth(i).inner_text() for i in range(chips.count())]
    faces = int(card.locator(".history-item__meta").inner_text().split("·")[1].split()[0])
    assert sum(int(text.split()[-1]) for text in texts) == faces
    assert len({text.split()[0] for text in texts}) == len(texts)

    chart = page.locator("#chart")
    expect(chart.get_by_role("heading")).to_have_text("Faces in your photos, by day")
    # A week of days, today's with both photos' faces; the days without photos keep their place.
    page.get_by_text("Show as a table").click()
    rows = chart.locator("tbody tr")
    expect(rows).to_have_count(7)
    assert rows.last.locator("td").last.inner_text() == str(2 * faces)
    assert all(rows.nth(i).locator("td").last.inner_text() == "0" for i in range(6))
    # Counts, not shares: the axis tops at the day's faces or just above, never at "100%".
    axis = [int(text) for text in chart.locator(".chart__tick").all_text_contents()]
    assert max(axis) >= 2 * faces and max(axis) <= 2 * faces + 4
    labels = chart.locator(".chart__day text")
    assert labels.count() >= 2 and not visible_boxes_overlap(labels)
    screenshot(page, "history-chart")


def test_wrong_password_is_refused_plainly(new_page, site, screenshot):
    email = unique_email()
    api_sign_up(site, email)
    page = new_page("/account.html")
    submit_account_form(page, email, "not the password")
    expect(page.get_by_role("alert")).to_have_text("Wrong email or password.")
    expect(page.locator(".account__email")).to_have_count(0)
    screenshot(page, "account-error")


def test_history_asks_anonymous_visitors_to_sign_in(new_page, screenshot):
    page = new_page("/history.html")
    expect(page.get_by_role("heading", name="Sign in to see your history")).to_be_visible()
    screenshot(page, "history-signed-out")


def test_pages_on_a_phone(new_page, site, photos_dir, screenshot):
    email = account_with_predictions(site, photos_dir, 1)
    page = new_page("/account.html?next=history.html", "phone")
    screenshot(page, "account")
    submit_account_form(page, email)
    item = page.locator(".history-item")
    expect(item).to_have_count(1)
    expect(page.locator(".chart svg rect").first).to_be_visible()
    screenshot(page, "history")
    item.click()
    expect(page.locator("#detail .face-card").first).to_be_visible()
    screenshot(page, "history-detail")


def test_load_more_pages_through_history(new_page, site):
    email = unique_email()
    token = api_sign_up(site, email)
    # Small face-free pictures: each one is saved like any upload, and costs little to predict.
    blank = base64.b64encode(images.encode(images.Image.new("RGB", (64, 48), (200, 200, 200)))).decode()
    model = offered_model(site)
    for index in range(26):
        saved = requests.post(
            f"{site}/predict_upload_api",
            timeout=120,
            json={"image": blank, "img_name": f"blank-{index:02}.png", "model": model},
            headers={"Authorization": f"Bearer {token['token']}"},
        ).json()
        assert saved["found"] is False and "id" in saved

    page = new_page("/account.html?next=history.html")
    submit_account_form(page, email)
    items = page.locator(".history-item")
    expect(items).to_have_count(24)
    expect(items.first).to_contain_text("0 faces found")
    page.get_by_role("button", name="Load more").click()
    expect(items).to_have_count(26)
    expect(page.get_by_role("button", name="Load more")).to_be_hidden()
    names = items.locator(".history-item__name").all_inner_texts()
    assert names == [f"blank-{index:02}.png" for index in reversed(range(26))], "newest first, none twice"
