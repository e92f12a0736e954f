"""axe-core (from npm, node_modules; no CDN) on every page and on the states that add content: no serious or
critical violation. axe is injected into a context that bypasses the pages' CSP, which would refuse an injected
script; the pages themselves are served as always."""

import json

import pytest
from playwright.sync_api import expect

from tests.pages.test_history_pages import account_with_predictions
from tests.support import images
from tests.support.pages import VIEWPORTS, WAIT_MS, submit_account_form, visitor_headers

pytestmark = pytest.mark.e2e


@pytest.fixture
def axe_page(browser, site, repo_root):
    axe = (repo_root / "node_modules" / "axe-core" / "axe.min.js").read_text()
    contexts = []

    def open_page(path, viewport="desktop", scheme="light"):
        context = browser.new_context(
            viewport=VIEWPORTS[viewport],
            base_url=site,
            bypass_csp=True,
            color_scheme=scheme,
            extra_http_headers=visitor_headers(),
        )
        context.add_init_script(axe)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(WAIT_MS)
        page.goto(path)
        return page

    yield open_page
    for context in contexts:
        context.close()


def serious_violations(page):
    found = page.evaluate("async () => (await axe.run()).violations")
    return [
        (violation["id"], violation["impact"], [node["target"] for node in violation["nodes"]][:5])
        for violation in found
        if violation["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("viewport", ["desktop", "phone"])
@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/account.html",
        "/account.html?mode=signup",
        "/history.html",
        "/camera.html",
        "/no/such/page",
        "/privacy.html",
        "/docs",
    ],
)
def test_pages_have_no_serious_violations(axe_page, path, viewport, scheme):
    page = axe_page(path, viewport, scheme)
    expect(page.locator(".site-header a").first).to_be_visible()
    if path == "/":
        page.wait_for_selector("input[name=model]")
    violations = serious_violations(page)
    assert violations == [], json.dumps(violations)


def test_results_and_history_have_no_serious_violations(axe_page, site, photos_dir):
    page = axe_page("/")
    page.wait_for_selector("input[name=model]")
    page.set_input_files("#file", str(photos_dir / "dlib_bald_guys.jpg"))
    expect(page.locator(".result .face-box").first).to_be_visible()
    violations = serious_violations(page)
    assert violations == [], json.dumps(violations)

    email = account_with_predictions(site, photos_dir, 1)
    page = axe_page("/account.html?next=history.html")
    submit_account_form(page, email)
    expect(page.locator(".history-item")).to_have_count(1)
    page.get_by_text("Show as a table").click()
    violations = serious_violations(page)
    assert violations == [], json.dumps(violations)
    page.locator(".history-item").click()
    expect(page.locator("#detail-title")).to_have_text(images.FACES_PHOTO)
    expect(page.locator("#detail .face-box").first).to_be_visible()
    violations = serious_violations(page)
    assert violations == [], json.dumps(violations)
