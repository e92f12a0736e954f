"""account.html: signing out revokes the token on the server; deleting the account asks first, then removes it and
its history."""

import json

import pytest
import requests
from playwright.sync_api import expect

from tests.pages.test_history_pages import account_with_predictions
from tests.support.pages import PASSWORD, submit_account_form

pytestmark = pytest.mark.e2e


def signed_in_on_the_account_page(new_page, site, photos_dir, predictions):
    """A new account with `predictions` saved, signed in through the form; returns the page, e-mail and token."""
    email = account_with_predictions(site, photos_dir, predictions)
    page = new_page("/account.html")
    submit_account_form(page, email)
    page.wait_for_url(f"{site}/")  # signed in: the form sends people on to the upload page
    page.goto("/account.html")
    token = json.loads(page.evaluate("localStorage.getItem('moodlens.session')"))["token"]
    return page, email, token


def test_sign_out_revokes_the_token(new_page, site, photos_dir):
    page, _, token = signed_in_on_the_account_page(new_page, site, photos_dir, 0)
    # The page forgets the token first and revokes it on the server after: wait for the revocation's answer.
    with page.expect_response(lambda response: response.url.endswith("/auth_signout_api")) as revoked:
        page.locator("#sign-out").click()
    assert revoked.value.status == 200
    expect(page.get_by_role("button", name="Sign in", exact=True)).to_be_visible()
    refused = requests.get(f"{site}/history_api", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert refused.status_code == 401


def test_delete_account_asks_first_then_removes_everything(new_page, site, photos_dir, screenshot):
    page, email, token = signed_in_on_the_account_page(new_page, site, photos_dir, 2)

    page.get_by_role("button", name="Delete account").click()
    screenshot(page, "account-delete-confirm")
    page.get_by_role("button", name="Cancel").click()
    assert requests.get(f"{site}/history_api", headers={"Authorization": f"Bearer {token}"}, timeout=30).ok

    page.get_by_role("button", name="Delete account").click()
    page.get_by_role("button", name="Delete my account").click()
    expect(page.get_by_text("Your account and 2 saved predictions were deleted.")).to_be_visible()
    assert (
        requests.get(f"{site}/history_api", headers={"Authorization": f"Bearer {token}"}, timeout=30).status_code == 401
    )
    again = requests.post(f"{site}/auth_signin_api", json={"email": email, "password": PASSWORD}, timeout=30)
    assert again.status_code == 401
