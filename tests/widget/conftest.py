"""Browser tabs for the widget tests (the Chromium instance is in tests/conftest.py)."""

import pytest
from playwright.sync_api import expect

expect.set_options(timeout=20_000)


@pytest.fixture
def context(browser):
    """A fresh browser profile (empty localStorage) per test."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(20_000)
    yield context
    context.close()


@pytest.fixture
def page(context):
    """A tab recording script errors, failed requests (but the favicon) and dialogs."""
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.on(
        "response",
        lambda r: (
            r.status >= 400
            and not r.url.endswith("/favicon.ico")
            and page.errors.append(f"{r.status} {r.url}")
        ),
    )
    page.on(
        "dialog", lambda dialog: (page.errors.append(f"dialog: {dialog.message}"), dialog.dismiss())
    )
    return page
