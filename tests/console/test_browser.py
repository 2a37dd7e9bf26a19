"""The console in Debian's Chromium: the main tasks by mouse and keyboard, and axe."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from tests.console.browser import assert_accessible, sign_in

expect.set_options(timeout=20_000)


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.on("console", lambda m: m.type == "error" and page.errors.append(m.text))
    yield page
    context.close()


def test_sign_in_page_is_accessible(page, console):
    page.goto(console.url + "/login")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert_accessible(page)
    assert page.errors == []


def test_filter_conversations_and_open_a_transcript(page, console, conversations):
    sign_in(page, console, "viewer")
    assert_accessible(page)
    page.get_by_role("link", name="Conversations").click()
    page.get_by_label("Visitor text contains").fill("weather like in Paris")
    page.get_by_label("Declined").check()
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"declined=yes"))
    rows = page.locator("table.list tbody tr")
    expect(rows.filter(has_text="weather like in Paris").first).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Lowest confidence below (0–1)").fill("2")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.get_by_role("alert")).to_contain_text("expected a number from 0 to 1")
    assert page.errors == [
        "Failed to load resource: the server responded with a status of 400 (Bad Request)"
    ]
    page.errors.clear()

    page.goto(f"{console.url}/conversations/{conversations['faq']}")
    expect(page.get_by_text("faq/who_certifies").first).to_be_visible()
    assert_accessible(page)
    assert page.errors == []


def test_annotate_from_the_inbox_and_undo(page, console, bot):
    sender = f"console-browser-{time.monotonic_ns()}"
    text = f"what's the weather like in Nairobi {sender[-6:]}"
    bot.say(sender, text)
    sign_in(page, console)
    page.get_by_role("link", name="Inbox").click()
    assert_accessible(page)
    group = page.locator("li.group").filter(has_text=text)
    group.get_by_label("Right intent").fill("out_of_scope")
    group.get_by_role("button", name="Assign").click()
    expect(page.locator("li.group").filter(has_text=text)).to_have_count(0)
    annotation = page.locator("table.list tr").filter(has_text=text)
    expect(annotation).to_contain_text("intent out_of_scope")
    annotation.get_by_role("button", name=re.compile("^Undo")).click()
    expect(page.locator("li.group").filter(has_text=text)).to_have_count(1)
    assert page.errors == []


def test_bulk_select_all_is_offered_with_javascript(page, console):
    sign_in(page, console)
    page.goto(console.url + "/inbox")
    select_all = page.get_by_label("Select all groups")
    expect(select_all).to_be_visible()
    select_all.check()
    boxes = page.locator('input.pick[form="bulk"]')
    assert boxes.count() > 0
    assert all(boxes.nth(n).is_checked() for n in range(boxes.count()))


def test_close_a_contact_request(page, console, conversations):
    sign_in(page, console)
    page.get_by_role("link", name="Contact requests").click()
    assert_accessible(page)
    row = page.locator("tr").filter(
        has=page.locator(f'a[href="/conversations/{conversations["contact"]}"]')
    )
    row.get_by_role("button", name="Mark done: Ana Pereira").click()
    expect(row).to_have_count(0)
    page.get_by_label("Show").select_option("done")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("tr").filter(has_text="ana@example.com").first).to_contain_text(
        "done by reviewer"
    )
    assert page.errors == []


def test_dashboard_charts_are_accessible_and_fit_a_phone(browser, console):
    context = browser.new_context(viewport={"width": 320, "height": 640})
    page = context.new_page()
    try:
        sign_in(page, console, "admin")
        expect(page.locator("svg[role=img] title").first).to_have_text(
            re.compile("Conversations per day")
        )
        assert_accessible(page)
        for path in ("/", "/conversations", "/inbox", "/contacts"):
            page.goto(console.url + path)
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, path
    finally:
        context.close()
