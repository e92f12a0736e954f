"""Browser tests of the pages: Debian's Chromium driven by Playwright against the local server (scripts/serve)."""

import subprocess

import pytest
from playwright.sync_api import sync_playwright

from tests.support.pages import VIEWPORTS, WAIT_MS, launch, visitor_headers


@pytest.fixture(scope="session")
def site(server_url, repo_root):
    """The server's URL once hosting/build holds a fresh bundle of hosting/src."""
    subprocess.run(["bash", str(repo_root / "scripts" / "build_hosting.sh")], check=True)
    return server_url


@pytest.fixture(scope="session")
def playwright_session():
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_session):
    browser = launch(playwright_session)
    yield browser
    browser.close()


class PageErrors:
    """Uncaught exceptions in a page: any one fails the test, since the page then shows the wrong thing."""

    def __init__(self, page):
        self.errors = []
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def check(self):
        assert self.errors == [], self.errors


def open_page(browser, site, path, viewport="desktop"):
    context = browser.new_context(
        viewport=VIEWPORTS[viewport],
        base_url=site,
        device_scale_factor=1,
        is_mobile=viewport == "phone",
        has_touch=viewport == "phone",
        # Each context is another visitor, from an address of its own.
        extra_http_headers=visitor_headers(),
    )
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    errors = PageErrors(page)
    page.goto(path)
    return page, errors


@pytest.fixture
def new_page(browser, site):
    """Opens pages in fresh browser contexts (separate storage: separate users) and checks them at the end."""
    opened = []

    def new_page(path="/", viewport="desktop", in_browser=None):
        page, errors = open_page(in_browser or browser, site, path, viewport)
        opened.append((page, errors))
        return page

    yield new_page
    for page, errors in opened:
        page.context.close()
        errors.check()


@pytest.fixture(scope="session")
def screenshots_dir(repo_root):
    path = repo_root / "artifacts" / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    # Only this run's pictures: an old one could pass for a page that no longer looks like that.
    for old in path.glob("*.png"):
        old.unlink()
    return path


@pytest.fixture
def screenshot(screenshots_dir):
    def screenshot(page, name):
        width = page.viewport_size["width"]
        kind = next(kind for kind, size in VIEWPORTS.items() if size["width"] == width)
        # From the top: scrolled, the sticky header would be drawn over the middle of a full-page shot.
        page.evaluate("window.scrollTo({top: 0, behavior: 'instant'})")
        page.screenshot(path=str(screenshots_dir / f"{name}-{kind}.png"), full_page=True)

    return screenshot
