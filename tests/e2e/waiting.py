"""Waiting in a browser test for what the browser does not show, without blocking its events."""

import time


def wait_until(page, condition, what: str, timeout: float = 15):
    """Wait for something the browser does not show (a held request, a database row), letting
    Playwright's event loop run meanwhile; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        page.wait_for_timeout(50)
