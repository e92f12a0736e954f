"""The same pages on the firebase backend: Firebase Auth through the JS SDK bundled from npm (on the Auth
emulator), the history in the Firestore and Cloud Storage emulators. Sign up, upload, open, delete, sign out."""

import pytest
import requests
from playwright.sync_api import expect

from tests.support import emulators, images
from tests.support.local_server import running_server
from tests.support.pages import submit_account_form, unique_email

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def firebase_site(site, repo_root, tmp_path_factory):
    started = []
    try:
        for emulator in (emulators.firestore(), emulators.storage(), emulators.auth()):
            started.append(emulator.start())
        firestore, storage, auth = started
        env = {
            "MOODLENS_HISTORY_BACKEND": "firebase",
            "MOODLENS_FIREBASE_PROJECT": emulators.PROJECT,
            "MOODLENS_STORAGE_BUCKET": emulators.BUCKET,
            "FIRESTORE_EMULATOR_HOST": firestore.host,
            "FIREBASE_AUTH_EMULATOR_HOST": auth.host,
            "STORAGE_EMULATOR_HOST": f"http://{storage.host}",
        }
        with running_server(repo_root, tmp_path_factory.mktemp("firebase") / "server.log", env) as url:
            yield url
    finally:
        for emulator in reversed(started):
            emulator.stop()


def test_firebase_sign_up_upload_open_delete_sign_out(new_page, firebase_site, photos_dir, screenshot):
    assert requests.get(f"{firebase_site}/auth_config_api", timeout=30).json()["mode"] == "firebase"
    email = unique_email()
    page = new_page(f"{firebase_site}/account.html?mode=signup&next=history.html")
    submit_account_form(page, email)
    expect(page.get_by_role("heading", name="No predictions yet")).to_be_visible()
    expect(page.locator(".account__email")).to_have_text(email)

    page.get_by_role("link", name="Upload").click()
    page.wait_for_selector("input[name=model]")
    page.set_input_files("#file", str(photos_dir / images.FACES_PHOTO))
    page.get_by_role("link", name="Open it").click()
    dialog = page.locator("#detail")
    expect(dialog.locator(".face-card").first.locator(".bar")).to_have_count(7)
    expect(page.locator(".history-item")).to_have_count(1)
    screenshot(page, "firebase-history-detail")
    dialog.get_by_role("button", name="Delete this prediction").click()
    page.locator("#confirm-one").get_by_role("button", name="Delete", exact=True).click()
    expect(page.get_by_role("heading", name="No predictions yet")).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in to see your history")).to_be_visible()
    page.goto(f"{firebase_site}/account.html")
    submit_account_form(page, email, "not the password")
    expect(page.get_by_role("alert")).to_have_text("Wrong email or password.")
