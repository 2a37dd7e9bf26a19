"""The widget in a real browser, talking to a real bot (issue 3's acceptance tests)."""

from __future__ import annotations

import gzip
import json
import sqlite3
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from certbot.channels.conversation_ids import PREFIX
from tests.servers import HostSite
from tests.widget.chat import ask, bot_bubbles, demo, launcher, open_chat

ROOT = Path(__file__).resolve().parents[2]
BUDGET_BYTES = 12 * 1024
ANSWER_WHO = "are issued by independent certification bodies"


def test_asks_a_question_and_sees_the_curated_answer(page, bot):
    demo(page, bot)
    open_chat(page)
    expect(page.get_by_role("button", name="Does ISO issue certificates?")).to_be_visible()
    ask(page, "Who issues ISO 9001 certificates?")
    answer = bot_bubbles(page).last
    expect(answer).to_contain_text("ISO 9001 certificates " + ANSWER_WHO)
    expect(answer.locator("strong")).to_have_text("independent certification bodies")
    assert page.errors == []


def test_quick_reply_is_answered(page, bot):
    demo(page, bot)
    open_chat(page)
    page.get_by_role("button", name="Is certification mandatory?").click()
    expect(page.locator(".row.me .bubble").last).to_contain_text("Is certification mandatory?")
    expect(bot_bubbles(page).last).to_contain_text("Usually not.")


def stored_state(page: Page) -> dict:
    """The conversation the widget keeps in localStorage."""
    return json.loads(page.evaluate("localStorage.getItem(localStorage.key(0))"))


def test_nothing_is_stored_before_the_first_open_and_reload_continues_the_conversation(page, bot):
    demo(page, bot)
    assert page.evaluate("localStorage.length") == 0
    open_chat(page)
    ask(page, "who issues certificates?")
    expect(bot_bubbles(page).last).to_contain_text(ANSWER_WHO)
    conversation = stored_state(page)["id"]
    assert conversation.startswith(PREFIX + ".")  # issued by the bot
    page.reload()
    expect(page.get_by_role("dialog")).to_be_visible()
    expect(bot_bubbles(page).last).to_contain_text(ANSWER_WHO)
    expect(page.locator(".row.me .bubble")).to_have_text(["You: who issues certificates?"])
    ask(page, "does iso issue certificates?")
    expect(bot_bubbles(page).last).to_contain_text("ISO develops and publishes standards")
    assert stored_state(page)["id"] == conversation
    assert bot.stored_texts(conversation) == [
        "/session_start",
        "who issues certificates?",
        "does iso issue certificates?",
    ]
    assert page.errors == []


@pytest.mark.parametrize(
    "stored_id",
    ["3f2b9c1e-8d4a-4f6b-9e2c-7a1d5b8c0e4f", f"{PREFIX}.{'0' * 32}.{'0' * 32}"],
    ids=["made up by an older widget", "forged"],
)
def test_a_stored_conversation_the_bot_did_not_issue_starts_afresh(page, bot, stored_id):
    demo(page, bot)
    old = {
        "id": stored_id,
        "open": True,
        "msgs": [
            {"id": "m1", "from": "bot", "text": "An answer from before"},
            {"id": "m2", "from": "visitor", "text": "a question from before"},
        ],
        "queue": [],
    }
    page.evaluate(
        "([key, state]) => localStorage.setItem(key, JSON.stringify(state))",
        ["certbot:" + bot.widget, old],
    )
    page.reload()
    expect(bot_bubbles(page).first).to_contain_text("An answer from before")
    ask(page, "who issues certificates?")
    # Refused (403): a new conversation, greeted, with the question sent again and answered.
    expect(bot_bubbles(page).first).to_contain_text("virtual assistant")
    expect(bot_bubbles(page).last).to_contain_text(ANSWER_WHO)
    expect(page.locator(".row.me .bubble")).to_have_text(["You: who issues certificates?"])
    expect(page.get_by_text("from before")).to_have_count(0)
    conversation = stored_state(page)["id"]
    assert conversation.startswith(PREFIX + ".") and conversation != stored_id
    assert bot.stored_texts(conversation) == ["/session_start", "who issues certificates?"]
    assert bot.stored_texts(stored_id) == []
    assert page.errors == [f"403 {bot.widget}webhook"]


def test_keyboard_opens_closes_and_moves_focus(page, bot):
    demo(page, bot)
    launcher(page).focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("textbox", name="Your question")).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_be_hidden()
    expect(launcher(page)).to_be_focused()
    expect(launcher(page)).to_have_attribute("aria-expanded", "false")


def test_visitor_html_stays_text(page, bot):
    demo(page, bot)
    open_chat(page)
    payload = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'
    ask(page, payload)
    expect(page.locator(".row.me .bubble").last).to_have_text("You: " + payload)
    expect(bot_bubbles(page).last).not_to_contain_text("virtual assistant")
    assert page.locator(".log img").count() == 0
    assert page.evaluate("window.__xss") is None


def test_html_and_javascript_links_in_bot_text_stay_inert(page, bot):
    demo(page, bot)
    open_chat(page)
    ask(page, "I'd like to talk to a person")
    expect(bot_bubbles(page).last).to_contain_text("What is your name?")
    name = '<img src=x onerror="window.__xss=1"> [click](javascript:window.__xss=2)'
    ask(page, name)
    echoed = bot_bubbles(page).last
    expect(echoed).to_contain_text("What email address")
    expect(echoed).to_contain_text('<img src=x onerror="window.__xss=1">')
    expect(echoed).to_contain_text("click")
    assert echoed.locator("img, a").count() == 0
    assert page.evaluate("window.__xss") is None


def test_feedback_reaches_the_conversation(page, bot):
    demo(page, bot)
    open_chat(page)
    ask(page, "who issues certificates?")
    expect(bot_bubbles(page).last).to_contain_text(ANSWER_WHO)
    button = page.locator(".row.bot").last.get_by_role("button", name="Not helpful")
    button.click()
    expect(button).to_have_attribute("aria-pressed", "true")
    sender = stored_state(page)["id"]
    with sqlite3.connect(bot.db) as conn:
        query = "select data from events where sender_id = ? and intent_name = 'feedback'"
        for _ in range(50):
            rows = conn.execute(query, (sender,)).fetchall()
            if rows:
                break
            page.wait_for_timeout(100)
    [event] = [json.loads(data) for (data,) in rows]
    assert event["parse_data"]["entities"][0]["value"] == "down"
    assert event["metadata"]["feedback_for"].startswith("Certificates are issued by")


def test_thumbs_are_offered_under_curated_answers_only(page, bot):
    demo(page, bot)
    open_chat(page)
    ask(page, "who issues certificates?")
    expect(bot_bubbles(page).last).to_contain_text(ANSWER_WHO)
    ask(page, "I'd like to talk to a person")
    expect(bot_bubbles(page).last).to_contain_text("What is your name?")
    ask(page, "Ana Pereira")
    expect(bot_bubbles(page).last).to_contain_text("What email address")
    ask(page, "ana at example dot com")
    rows = page.locator(".row.bot")
    invalid = rows.filter(has_text="doesn't look like an email address")
    for reloaded in (False, True):  # the mark is kept with the transcript
        expect(invalid.locator(".bubble")).to_be_visible()
        expect(invalid.locator(".fbar")).to_have_count(0)
        expect(rows).to_have_count(6)  # greeting, answer, name, email, invalid, email again
        expect(rows.locator(".fbar")).to_have_count(1)
        answer = rows.filter(has_text=ANSWER_WHO)
        expect(answer.get_by_role("button", name="Helpful", exact=True)).to_be_visible()
        expect(rows.first.get_by_role("button", name="Not helpful")).to_have_count(0)  # greeting
        if not reloaded:
            page.reload()
    assert page.errors == []


def test_new_conversation_starts_afresh(page, bot):
    demo(page, bot)
    open_chat(page)
    first = stored_state(page)["id"]
    ask(page, "who issues certificates?")
    expect(bot_bubbles(page).last).to_contain_text(ANSWER_WHO)
    page.get_by_role("button", name="New conversation").click()
    expect(bot_bubbles(page)).to_have_count(1)
    expect(bot_bubbles(page).first).to_contain_text("virtual assistant")
    second = stored_state(page)["id"]
    assert second.startswith(PREFIX + ".") and second != first
    assert bot.stored_texts(second) == ["/session_start"]


def test_works_on_another_site_under_a_strict_csp(page, bot, host_site):
    origin = bot.rasa.url
    url = host_site.page(
        "/csp.html",
        "<!doctype html><html lang='en'><head><title>Host</title>"
        f"<script src='{bot.widget}widget.js' defer></script></head>"
        "<body><main><h1>Our company</h1></main></body></html>",
        **{
            "Content-Security-Policy": f"default-src 'none'; script-src {origin}; "
            f"style-src {origin}; connect-src {origin}; img-src {origin}"
        },
    )
    violations = []
    page.on("console", lambda m: "Content Security Policy" in m.text and violations.append(m.text))
    page.goto(url)
    open_chat(page)
    ask(page, "does iso issue certificates?")
    expect(bot_bubbles(page).last).to_contain_text("ISO develops and publishes standards")
    assert violations == []


def test_on_a_site_not_allowed_it_says_so_and_stops(page, bot):
    other_site = HostSite()  # another origin, not in the bot's allowed_origins
    try:
        url = other_site.page(
            "/refused.html",
            "<!doctype html><html lang='en'><head><title>Elsewhere</title>"
            f"<script src='{bot.widget}widget.js' defer></script></head><body></body></html>",
        )
        page.goto(url)
        launcher(page).click()
        ask(page, "who issues certificates?")
        status = page.locator(".row.me .status").last
        expect(status).to_contain_text("this website is not allowed to use the chat")
        expect(page.get_by_text("Connection lost")).to_be_hidden()
    finally:
        other_site.stop()


HOSTILE_CSS = (
    "* { all: unset !important; } button { display: none !important; }"
    " div { font-size: 40px !important; } p { color: red !important; }"
)


def test_hostile_host_css_does_not_break_it_and_its_css_does_not_leak(page, bot, host_site):
    url = host_site.page(
        "/hostile.html",
        f"<!doctype html><html lang='en'><head><title>Hostile</title><style>{HOSTILE_CSS}</style>"
        f"<script src='{bot.widget}widget.js' defer></script></head>"
        "<body><p id='own'>The host's own paragraph</p><button id='host-button'>Host</button>"
        "</body></html>",
    )
    page.goto(url)
    box = launcher(page).bounding_box()
    assert box and 40 <= box["width"] <= 80 and 40 <= box["height"] <= 80
    open_chat(page)
    panel = page.get_by_role("dialog").bounding_box()
    assert panel and 280 <= panel["width"] <= 480 and panel["height"] >= 300
    size = bot_bubbles(page).first.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
    assert 12 <= size <= 20
    ask(page, "who issues certificates?")
    expect(bot_bubbles(page).last).to_contain_text(ANSWER_WHO)
    own = page.locator("#own").evaluate("e => getComputedStyle(e).color")
    assert own == "rgb(255, 0, 0)"
    assert page.locator("#host-button").is_hidden()


def test_phone_screen_gets_a_full_screen_panel(browser, bot):
    context = browser.new_context(
        viewport={"width": 375, "height": 667}, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    demo(page, bot)
    launcher(page).tap()
    expect(bot_bubbles(page).first).to_contain_text("virtual assistant")
    dialog = page.get_by_role("dialog")
    dialog.evaluate("panel => Promise.all(panel.getAnimations().map(a => a.finished))")
    assert dialog.bounding_box() == {"x": 0, "y": 0, "width": 375, "height": 667}
    ask(page, "is certification mandatory")
    expect(bot_bubbles(page).last).to_contain_text("Usually not.")
    context.close()


@pytest.mark.parametrize("state", ["closed", "open"])
def test_no_accessibility_violations(page, bot, state):
    demo(page, bot)
    if state == "open":
        open_chat(page)
        ask(page, "what can you help with?")
        expect(bot_bubbles(page)).to_have_count(2)
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


def test_offline_messages_are_queued_and_delivered_in_order_when_the_server_returns(page, bot):
    demo(page, bot)
    open_chat(page)
    bot.rasa.stop()
    try:
        ask(page, "who issues certificates?")
        expect(page.get_by_role("status")).to_have_text("Connection lost. Reconnecting…")
        expect(page.locator(".row.me .status").last).to_contain_text("Waiting to send")
        ask(page, "is certification mandatory?")
        page.keyboard.press("Escape")
    finally:
        bot.rasa.start()
    expect(launcher(page)).to_have_accessible_name("Open chat, 2 unread messages", timeout=60_000)
    launcher(page).click()
    expect(launcher(page)).to_have_accessible_name("Open chat")
    answers = bot_bubbles(page)
    expect(answers.nth(-2)).to_contain_text(ANSWER_WHO)
    expect(answers.nth(-1)).to_contain_text("Usually not.")
    expect(page.get_by_text("Connection lost")).to_be_hidden()
    expect(page.locator(".row.me .status")).to_have_text(["Sent", "Sent"])
    assert page.errors == []


def test_reduced_motion_turns_animations_off(page, bot):
    page.emulate_media(reduced_motion="reduce")
    demo(page, bot)
    open_chat(page)
    durations = page.get_by_role("dialog").evaluate(
        "e => [...e.querySelectorAll('*'), e].map(n => getComputedStyle(n).transitionDuration)"
    )
    assert set(durations) <= {"0s"}


def test_download_size_is_within_budget():
    dist = ROOT / "widget" / "dist"
    sizes = {
        name: len(gzip.compress((dist / name).read_bytes(), 9))
        for name in ("widget.js", "widget.css")
    }
    assert sum(sizes.values()) <= BUDGET_BYTES, sizes


def test_theme_from_the_page_css_and_left_position(page, bot, host_site):
    url = host_site.page(
        "/themed.html",
        "<!doctype html><html lang='en'><head><title>Themed</title>"
        "<style>#certbot-widget { --certbot-accent: rgb(122, 31, 92); }</style>"
        f"<script src='{bot.widget}widget.js' data-position='left' defer></script></head>"
        "<body><main><h1>Our company</h1></main></body></html>",
    )
    page.goto(url)
    button = launcher(page)
    expect(button).to_have_css("background-color", "rgb(122, 31, 92)")
    assert button.bounding_box()["x"] < 100
