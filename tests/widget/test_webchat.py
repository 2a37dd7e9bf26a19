"""rasa-webchat 1.0.1, the widget most Rasa sites embed, on a page of another origin in
Chromium, talking to the real bot over the socket.io channel (issue 13, item 5).

The package comes from npm, pinned by tests/widget/webchat/package-lock.json, and is
installed by the tests (`npm ci`) into their temporary folder.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from certbot.channels.conversation_ids import PREFIX

LOCKED = Path(__file__).resolve().parent / "webchat"
ANSWER_WHO = "are issued by independent certification bodies"
# rasa-webchat shows each bot message after a delay of up to 3 s (customMessageDelay).
REPLY_MS = 60_000


@pytest.fixture(scope="module")
def webchat_js(tmp_path_factory: pytest.TempPathFactory) -> str:
    """rasa-webchat's UMD bundle (`lib/index.js`), installed from the committed lock file."""
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm not found: rasa-webchat cannot be installed from its lock file")
    folder = tmp_path_factory.mktemp("webchat")
    for name in ("package.json", "package-lock.json"):
        shutil.copy(LOCKED / name, folder / name)
    subprocess.run(
        [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--silent"],
        cwd=folder,
        check=True,
        timeout=600,
    )
    package = folder / "node_modules" / "rasa-webchat"
    assert json.loads((package / "package.json").read_text())["version"] == "1.0.1"
    return (package / "lib" / "index.js").read_text()


@pytest.fixture(scope="module")
def webchat_url(host_site, bot, webchat_js: str) -> str:
    """A page of the host site (an allowed origin) embedding rasa-webchat as its README says."""
    host_site.page("/webchat.js", webchat_js, **{"Content-Type": "text/javascript"})
    settings = {
        "socketUrl": bot.rasa.url,
        "socketPath": "/socket.io/",
        "initPayload": "/session_start",
        "title": "Certification assistant",
        "params": {"storage": "local"},
    }
    return host_site.page(
        "/webchat.html",
        "<!doctype html><html lang='en'><head><title>Webchat</title></head><body>"
        "<script src='/webchat.js'></script>"
        f"<script>WebChat.default({json.dumps(settings)}, null);</script></body></html>",
    )


def open_webchat(page: Page, url: str) -> None:
    page.goto(url)
    page.locator(".rw-launcher").click()
    expect(page.locator(".rw-conversation-container")).to_be_visible()


def bot_messages(page: Page):
    return page.locator(".rw-response")


def ask(page: Page, text: str) -> None:
    box = page.locator(".rw-new-message")
    box.fill(text)
    box.press("Enter")


def session_id(page: Page) -> str:
    """The conversation id rasa-webchat keeps (its `chat_session` in localStorage)."""
    return json.loads(page.evaluate("localStorage.getItem('chat_session')"))["session_id"]


def test_greeting_quick_reply_bold_answer_and_typed_question(page, webchat_url):
    open_webchat(page, webchat_url)
    expect(bot_messages(page).first).to_contain_text("virtual assistant", timeout=REPLY_MS)
    assert session_id(page).startswith(PREFIX + ".")
    page.locator(".rw-reply", has_text="Who issues ISO certificates?").click()
    expect(page.locator(".rw-client").last).to_contain_text("Who issues ISO certificates?")
    answer = bot_messages(page).last
    expect(answer).to_contain_text(ANSWER_WHO, timeout=REPLY_MS)
    expect(answer.locator("strong")).to_have_text("independent certification bodies")
    ask(page, "is certification mandatory?")
    expect(bot_messages(page).last).to_contain_text("Usually not.", timeout=REPLY_MS)
    assert page.errors == []


def test_contact_form_with_an_invalid_then_a_valid_email(page, webchat_url):
    open_webchat(page, webchat_url)
    expect(bot_messages(page).first).to_contain_text("virtual assistant", timeout=REPLY_MS)
    ask(page, "I'd like to talk to a person")
    expect(bot_messages(page).last).to_contain_text("What is your name?", timeout=REPLY_MS)
    ask(page, "Dana Scully")
    expect(bot_messages(page).last).to_contain_text("What email address", timeout=REPLY_MS)
    ask(page, "dana at example dot com")
    expect(bot_messages(page).nth(-2)).to_contain_text(
        "doesn't look like an email address", timeout=REPLY_MS
    )
    expect(bot_messages(page).last).to_contain_text("What email address", timeout=REPLY_MS)
    ask(page, "dana@example.com")
    expect(bot_messages(page).last).to_contain_text("What would you like", timeout=REPLY_MS)
    ask(page, "How long does ISO 9001 certification take for 40 people?")
    expect(bot_messages(page).last).to_contain_text("May we keep", timeout=REPLY_MS)
    page.locator(".rw-reply", has_text="Yes, I agree").click()
    expect(bot_messages(page).last).to_contain_text("reply to dana@example.com", timeout=REPLY_MS)
    assert page.errors == []


def test_a_reload_continues_the_same_conversation_on_the_server(page, bot, webchat_url):
    open_webchat(page, webchat_url)
    expect(bot_messages(page).first).to_contain_text("virtual assistant", timeout=REPLY_MS)
    ask(page, "I'd like to talk to a person")
    expect(bot_messages(page).last).to_contain_text("What is your name?", timeout=REPLY_MS)
    before = session_id(page)
    page.reload()
    expect(bot_messages(page).last).to_contain_text("What is your name?")
    ask(page, "Dana Scully")
    expect(bot_messages(page).last).to_contain_text(
        "Thanks, Dana Scully. What email address", timeout=REPLY_MS
    )
    assert session_id(page) == before
    assert bot.stored_texts(before) == [
        "/session_start",
        "I'd like to talk to a person",
        "Dana Scully",
    ]
    assert page.errors == []


def test_a_forged_stored_session_gets_a_new_conversation(page, bot, webchat_url):
    open_webchat(page, webchat_url)
    expect(bot_messages(page).first).to_contain_text("virtual assistant", timeout=REPLY_MS)
    issued = session_id(page)
    forged = issued[:-1] + ("1" if issued.endswith("0") else "0")  # another signature
    page.evaluate(
        """forged => {
            const session = JSON.parse(localStorage.getItem('chat_session'));
            localStorage.setItem('chat_session', JSON.stringify({...session, session_id: forged}));
        }""",
        forged,
    )
    page.reload()
    page.wait_for_function(
        "forged => JSON.parse(localStorage.getItem('chat_session')).session_id !== forged",
        arg=forged,
    )
    assert session_id(page) != issued
    assert session_id(page).startswith(PREFIX + ".")
    assert bot.stored_texts(forged) == []
