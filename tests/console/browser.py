"""The console in Chromium: signing in, and axe's accessibility check."""

from __future__ import annotations

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.console.conftest import PASSWORD


def sign_in(page: Page, console, role: str = "reviewer") -> None:
    page.goto(console.url + "/inbox")
    expect(page).to_have_url(console.url + "/login")
    page.get_by_label("Username").fill(role)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()


def assert_accessible(page: Page) -> None:
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()
