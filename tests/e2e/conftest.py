"""Real-browser tests: Playwright driving Debian's Chromium against pytest-django's live server."""

import io
import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
# Chromium's own background traffic goes nowhere on a closed network; keep it quiet.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Playwright's sync API runs an event loop in the test thread; the ORM calls the tests make
# there (creating fixtures) are ordinary blocking calls, which Django otherwise refuses.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser(django_db_setup):
    if not CHROMIUM.exists():
        pytest.skip("Debian's Chromium is not installed (apt-get install chromium)")
    from django.db import connections
    from playwright.sync_api import expect, sync_playwright

    # Assertions wait as long as actions (15 s, not Playwright's 5): a loaded machine renders
    # slowly, not wrongly.
    expect.set_options(timeout=15_000)

    # Once Playwright's event loop runs in this thread, Django hands out new connection
    # objects, without the copy of the migrated data that serialized rollback restores.
    serialized = {
        alias: getattr(connections[alias], "_test_serialized_contents", None)
        for alias in connections
    }
    with sync_playwright() as playwright:
        for alias, contents in serialized.items():
            if contents is not None:
                connections[alias]._test_serialized_contents = contents
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 390, "height": 844})
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def demo_content(django_db_serialized_rollback):
    """The demo a newcomer sees with `make demo`, loaded into the live server's database."""
    from django.core.management import call_command

    call_command("load_demo_content", stdout=io.StringIO())
