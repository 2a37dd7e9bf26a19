"""What staff see, checked in Chromium: whole chart labels, headings and badges unbroken,
readable local times, bot replies rendered as the widget renders them (and nothing else),
no internal commands in transcripts, and an export preview that forgets what the last
training skipped. Conversations are written straight into a tracker store (no bot)."""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime, timedelta, timezone
from itertools import pairwise
from urllib.parse import quote

import pytest
from playwright.sync_api import expect
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    SessionStarted,
    SlotSet,
    UserUttered,
)

from console.tables import Annotation, TrainedModel, TrainingJob, utcnow
from tests.console.browser import assert_accessible, sign_in
from tests.console.conftest import EventStore, copy_inputs, make_console

GREETING = "Hi! I'm Bulltek's virtual assistant. What would you like to know?"
ANSWER = "**Usually not.** Ask [IAF CertSearch](https://www.iafcertsearch.org) first.\nThen us."
HOSTILE = '<img src=x onerror="window.__xss=1"> [click](javascript:window.__xss=2) **ok**'
SUBMITTED = "2026-12-03T14:05:12.345678+00:00"
# Long intent names, as the top-intents chart must show them whole.
INTENTS = [
    "faq/compliant_vs_certified",
    "faq/conformity_assessment",
    "faq/certificate_transfer",
    "faq/verify_certificate",
    "faq/certification_cycle",
    "faq/certification_body",
    "faq/national_bodies",
    "faq/labs_and_bodies",
    "faq/accreditation",
    "faq/mandatory",
]
ISO_WITH_FRACTION = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+")
CONTACT = {
    "name": "Ana",
    "email": "ana@example.com",
    "question": "a question",
    "consent": True,
    "submitted_at": SUBMITTED,
}
PROJECT_FILES = ("domain.yml", "config.yml", "data", "tests/nlu/test_nlu.yml")


def question(text: str, intent: str, confidence: float) -> UserUttered:
    name, _, key = intent.partition("/")
    parse = {"name": name, "confidence": confidence}
    if key:
        parse["full_retrieval_intent_name"] = intent
    return UserUttered(text, parse)


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """The training inputs the export preview reads, copied (the checkout stays untouched)."""
    return copy_inputs(tmp_path_factory.mktemp("polish-project"), PROJECT_FILES)


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> EventStore:
    store = EventStore(tmp_path_factory.mktemp("polish-store") / "conversations.db")
    store.save(
        "polish-widget",
        [
            ActionExecuted("action_session_start"),
            SessionStarted(),
            BotUttered(GREETING, metadata={"utter_action": "utter_greet"}),
            ActionExecuted("action_listen"),
            UserUttered("/session_start", {"name": "session_start", "confidence": 1.0}),
            ActionExecuted("action_session_start"),
            ActionExecuted("action_listen"),
            question("is certification **mandatory**?", "faq/mandatory", 0.95),
            BotUttered(ANSWER, metadata={"utter_action": "utter_faq/mandatory"}),
            ActionExecuted("action_listen"),
            question(HOSTILE, "request_human", 0.9),
            BotUttered(f"Thanks, {HOSTILE}. What email address should we reply to?"),
            SlotSet("contact_request", CONTACT),
        ],
    )
    events = []
    for n, intent in enumerate(INTENTS):
        for _ in range(2 * (len(INTENTS) - n)):  # faq/mandatory: 2, and 1 above
            events += [ActionExecuted("action_listen"), question(f"q {n}", intent, n / 10)]
    store.save("polish-intents", events)
    return store


@pytest.fixture(scope="module")
def console(tmp_path_factory, store, project):
    registry = tmp_path_factory.mktemp("registry")
    folder = tmp_path_factory.mktemp("polish-console")
    running = make_console(folder, store, "polish", project=project, registry=registry)
    with running.app.ctx.services.db.session() as session:
        for n, status in enumerate(("retired", "live")):
            session.add(
                TrainedModel(
                    name=f"20261201-00000{n}", created_by="make train", status=status,
                    data_fingerprint="f" * 64, setup_fingerprint="s" * 64,
                    accuracy=0.95, off_topic_rate=0.001, activated_at=utcnow(),
                    activated_by="make train", on_disk=False,
                )
            )  # fmt: skip
    reviewer = running.session("reviewer")
    reviewer.post(
        f"{running.url}/api/conversations/polish-widget/review",
        json={"reviewed": True},
        headers={"X-CSRF-Token": reviewer.csrf},
    )
    yield running
    running.served.stop()


@pytest.fixture
def at_width(browser, console):
    """A signed-in admin's page at a given viewport width (in a far-away time zone)."""
    contexts = []

    def page(width: int, timezone_id: str = "UTC"):
        context = browser.new_context(
            viewport={"width": width, "height": 900}, timezone_id=timezone_id
        )
        contexts.append(context)
        tab = context.new_page()
        tab.errors = []
        tab.on("pageerror", lambda error: tab.errors.append(str(error)))
        sign_in(tab, console, "admin")
        return tab

    yield page
    for context in contexts:
        context.close()


BOXES = """svg => {
  const box = (e) => { const r = e.getBoundingClientRect();
    return {x: r.left, y: r.top, right: r.right, bottom: r.bottom}; };
  return {svg: box(svg), labels: [...svg.querySelectorAll("text")].map(
    (t) => ({text: t.textContent, ...box(t)}))};
}"""


@pytest.mark.parametrize("width", [320, 1024, 1280])
def test_chart_labels_are_whole_inside_their_chart_and_apart(at_width, width):
    page = at_width(width)
    charts = page.locator("figure.chart")
    expect(charts).to_have_count(3)
    for n in range(3):
        drawn = charts.nth(n).locator("svg").evaluate(BOXES)
        frame, labels = drawn["svg"], drawn["labels"]
        assert labels, f"chart {n} has no labels"
        for label in labels:
            inside = (
                label["x"] >= frame["x"] - 0.5
                and label["right"] <= frame["right"] + 0.5
                and label["y"] >= frame["y"] - 0.5
                and label["bottom"] <= frame["bottom"] + 0.5
            )
            assert inside, f"{label['text']!r} sticks out of chart {n}: {label} vs {frame}"
        for one, other in pairwise(labels):
            apart = (
                one["right"] <= other["x"]
                or other["right"] <= one["x"]
                or one["bottom"] <= other["y"]
                or other["bottom"] <= one["y"]
            )
            assert apart, f"{one['text']!r} overlaps {other['text']!r} in chart {n}"
    intents = charts.nth(1).locator("svg text").all_text_contents()
    assert intents == INTENTS  # whole names, most frequent first
    days = charts.nth(0).locator("svg text").all_text_contents()
    today = datetime.now(timezone.utc).date()
    assert days[-1] == f"{today.day} {today:%b}"
    assert days[0] == f"{(today - timedelta(days=28)).day} {today - timedelta(days=28):%b}"
    assert_accessible(page)


# Every word of each heading and badge: on one line (its rectangles on one line).
BROKEN_WORDS = """elements => elements.flatMap((element) => {
  const broken = [];
  const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (const word of node.data.matchAll(/\\S+/g)) {
      const range = document.createRange();
      range.setStart(node, word.index);
      range.setEnd(node, word.index + word[0].length);
      const tops = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
      if (tops.size > 1) broken.push(word[0]);
    }
  }
  return broken;
})"""


@pytest.mark.parametrize("width", [1024, 1280])
def test_headings_and_badges_never_break_inside_a_word(at_width, console, width):
    page = at_width(width)
    for path in ("/models", "/conversations", "/contacts", "/conversations/polish-widget"):
        page.goto(console.url + path)
        expect(page.locator("h1")).to_be_visible()
        checked = page.locator("th, .flag, .tag")
        assert checked.count() > 0, path
        assert checked.evaluate_all(BROKEN_WORDS) == [], path
    page.goto(console.url + "/models")
    expect(page.locator("td .flag.status", has_text="retired")).to_have_count(1)


def test_times_are_readable_in_the_viewers_time_zone(at_width, console):
    admin = console.session("admin")
    html = admin.get(console.url + "/conversations/polish-widget").text
    assert '<time datetime="2026-12-03T14:05:12+00:00">3 Dec 2026, 14:05 UTC</time>' in html
    page = at_width(1280, "Asia/Kolkata")  # UTC+05:30 all year
    for path in ("/conversations/polish-widget", "/conversations", "/inbox", "/models"):
        page.goto(console.url + path)
        expect(page.locator("h1")).to_be_visible()
        text = page.locator("main").inner_text()
        assert not ISO_WITH_FRACTION.search(text), path
        assert "+00:00" not in text, path
    page.goto(console.url + "/conversations/polish-widget")
    submitted = page.locator("dd time")
    expect(submitted).to_have_text("3 Dec 2026, 19:35 GMT+5:30")
    expect(submitted).to_have_attribute("title", "3 Dec 2026, 14:05 UTC")
    times = page.locator("main time")
    assert times.count() >= 5
    for n in range(times.count()):
        moment = datetime.fromisoformat(times.nth(n).get_attribute("datetime"))
        local = moment.astimezone(timezone(timedelta(hours=5, minutes=30)))
        expect(times.nth(n)).to_have_text(f"{local.day} {local:%b %Y, %H:%M} GMT+5:30")
    assert page.errors == []
    # The JSON API keeps what is stored.
    body = admin.get(console.url + "/api/conversations/polish-widget").json()
    assert body["contact_request"]["submitted_at"] == SUBMITTED
    assert datetime.fromisoformat(body["review"]["reviewed_at"])


def test_bot_replies_show_the_widgets_markdown_and_no_html(at_width, console):
    page = at_width(1280)
    page.goto(console.url + "/conversations/polish-widget")
    bot = page.locator("li.turn.bot .said")
    answer = bot.filter(has_text="Usually not.")
    expect(answer.locator("strong")).to_have_text("Usually not.")
    expect(answer.locator(".as-link")).to_have_text("IAF CertSearch")
    expect(answer.locator(".link-target")).to_have_text("→ https://www.iafcertsearch.org")
    expect(answer.locator("br")).to_have_count(1)
    assert "**" not in answer.inner_text()
    echo = bot.filter(has_text="What email address")
    expect(echo).to_contain_text('<img src=x onerror="window.__xss=1">')
    expect(echo).to_contain_text("(not a link in the widget: javascript:window.__xss=2)")
    expect(echo.locator("strong")).to_have_text("ok")
    expect(page.locator(".transcript img, .transcript a, .transcript script")).to_have_count(0)
    visitor = page.locator("li.turn.visitor .text").first
    expect(visitor).to_have_text("is certification **mandatory**?")  # the visitor's: as typed
    assert page.evaluate("window.__xss") is None
    assert_accessible(page)


def test_the_session_opening_command_is_not_a_turn(console):
    admin = console.session("admin")
    page = admin.get(console.url + "/conversations/polish-widget").text
    assert "/session_start" not in page and GREETING.replace("'", "&#39;") in page
    body = admin.get(console.url + "/api/conversations/polish-widget").json()
    assert [t["text"] for t in body["turns"]][:2] == [GREETING, "is certification **mandatory**?"]
    assert body["visitor_messages"] == 2
    rows = admin.get(console.url + "/api/conversations?q=mandatory").json()["conversations"]
    assert [row["messages"] for row in rows] == [2]


def annotate(console, text: str, intent: str) -> None:
    with console.app.ctx.services.db.session() as session:
        session.add(
            Annotation(
                conversation_id=f"polish-{uuid.uuid4().hex[:8]}", event_index=1,
                event_timestamp=0.0, text=text, action="assign_intent", intent=intent,
                created_by="reviewer",
            )
        )  # fmt: skip


def test_the_preview_leaves_out_the_duplicates_the_last_live_training_skipped(console):
    reviewer = console.session("reviewer")
    preview = console.url + "/api/models/export-preview"
    annotate(console, "may we print the iso logo on our vans", "faq/iso_logo")
    annotate(console, "May we print the ISO logo on our vans", "faq/iso_logo")  # same text
    annotate(console, "can we use the iso logo", "faq/iso_logo")  # in data/nlu/faq.yml
    plan = reviewer.get(preview).json()
    assert len(plan["added"]) == 1 and len(plan["duplicates"]) == 2, plan
    assert plan.get("skipped_before", 0) == 0

    # A training with exactly these annotations went live; its model is live.
    with console.app.ctx.services.db.session() as session:
        model = TrainedModel(
            name="20261203-000000", created_by="reviewer", status="live",
            data_fingerprint="d" * 64, setup_fingerprint="s" * 64, activated_at=utcnow(),
            activated_by="reviewer", on_disk=False,
        )  # fmt: skip
        session.add(model)
        session.flush()
        session.add(
            TrainingJob(created_by="reviewer", status="live", stage="activate",
                        model_id=model.id, plan=json.dumps(plan))
        )  # fmt: skip
    after = reviewer.get(preview).json()
    assert after["duplicates"] == [] and after["skipped_before"] == 2
    page = reviewer.get(console.url + "/models").text
    assert "<strong>0</strong> duplicates (skipped)" in page
    assert "Not counted: 2 duplicates the last training that went live skipped already." in page

    annotate(console, "can we use the ISO logo?", "faq/iso_logo")  # a new duplicate
    assert [d["text"] for d in reviewer.get(preview).json()["duplicates"]] == [
        "can we use the ISO logo?"
    ]


def test_pages_still_answer_and_stay_accessible(at_width, console):
    page = at_width(320)
    for path in ("/", "/conversations", "/inbox", "/contacts", "/models",
                 f"/conversations/{quote('polish-widget')}"):  # fmt: skip
        page.goto(console.url + path)
        expect(page.locator("h1")).to_be_visible()
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, path
    assert page.errors == []
