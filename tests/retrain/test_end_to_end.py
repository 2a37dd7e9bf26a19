"""From a misunderstood question to a corrected live bot, through the console's API.

A real console (with its model server), a real bot pulling from it every 2 s and real
trainings (the shipped config, finetuning the live model) on a temporary project copy.
"""

from __future__ import annotations

import re
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests
from playwright.sync_api import expect

from console.tables import TrainedModel
from retrain import make, registry
from retrain.archive import archive_responses
from retrain.dataset import REVIEWED
from retrain.make import reuse_live, with_edited_answers
from tests.console.browser import assert_accessible, sign_in
from tests.console.conftest import copy_inputs, make_console, rate_down
from tests.integration.responses import matches_response
from tests.servers import ALLOWED_ORIGIN, MODEL, Bot

TOKEN = "pull-token-" + uuid.uuid4().hex
JOB_SECONDS = 1800
SWAP_SECONDS = 120
# Paraphrases of FAQ questions, in the words of visitors; the test annotates the first one
# the shipped model does not answer with its FAQ.
CANDIDATES = [
    ("which organisations are allowed to hand out the certificate", "faq/who_certifies"),
    ("who actually gives companies their 9001 papers", "faq/who_certifies"),
    ("who checks the checkers", "faq/labs_and_bodies"),
]
PROJECT_FILES = ("domain.yml", "config.yml", "data", "tests/nlu/test_nlu.yml", "tests/stories")
PORTAL = "https://bulltek.example/login"
PORTAL_ANSWER = (
    f"**Sign in** to the customer portal at [bulltek.example/login]({PORTAL}) to download"
    " your certificates. <b>not bold</b>"
)
PORTAL_QUESTIONS = [
    "where do i log into the bulltek customer portal",
    "how do I get into my bulltek portal account",
    "portal sign in page for bulltek customers",
]


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A copy of the training inputs the jobs may change (`make pytest` has trained the
    shipped model from these, so finetuning applies)."""
    return copy_inputs(tmp_path_factory.mktemp("project"), PROJECT_FILES)


@pytest.fixture(scope="module")
def stack(tmp_path_factory, project):
    """The console, with the shipped model registered live, and a bot pulling from it."""
    workdir = tmp_path_factory.mktemp("retrain-bot")
    tracker = SimpleNamespace(db=workdir / "conversations.db")
    console = make_console(
        tmp_path_factory.mktemp("retrain-console"),
        tracker,
        "retrain",
        project=project,
        registry=tmp_path_factory.mktemp("registry"),
        model_pull_token=TOKEN,
        answer_link_domains=("bulltek.example",),
    )
    # In a thread: Playwright's sync API keeps an event loop running in this one, and the
    # evaluation the gate needs runs its own.
    with ThreadPoolExecutor(1) as thread:
        thread.submit(
            registry.bootstrap, console.app.ctx.services.db, console.settings, MODEL
        ).result()
    pull = f"{console.url}/api/models/live"
    bot = Bot(
        workdir,
        [ALLOWED_ORIGIN],
        extra_endpoints=(
            f'models:\n  url: "{pull}"\n  token: "{TOKEN}"\n  wait_time_between_pulls: 2\n'
        ),
    )
    bot.actions.start()
    bot.rasa.start()
    yield console, bot
    bot.rasa.stop()
    bot.actions.stop()
    console.served.stop()


def texts(bot, text: str) -> list[str]:
    """The bot's reply texts to `text` from a new visitor."""
    return [reply.get("text", "") for reply in bot.say(f"retrain-{uuid.uuid4().hex}", text)]


def answers_with(replies: list[str], faq: str) -> bool:
    """True when one of the replies is the FAQ's answer."""
    return any(matches_response(reply, f"utter_{faq}") for reply in replies)


def wait_for_job(session: requests.Session, url: str, job_id: int) -> dict:
    """Poll the job until it has finished; its final JSON."""
    deadline = time.monotonic() + JOB_SECONDS
    while time.monotonic() < deadline:
        job = session.get(f"{url}/api/jobs/{job_id}").json()
        if job["status"] != "running":
            return job
        time.sleep(2)
    pytest.fail(f"job {job_id} still running after {JOB_SECONDS} s")


def wait_for_answer(bot, text: str, wanted) -> list[str]:
    """Ask until the replies satisfy `wanted` (the bot pulls the live model every 2 s)."""
    deadline = time.monotonic() + SWAP_SECONDS
    while time.monotonic() < deadline:
        replies = texts(bot, text)
        if wanted(replies):
            return replies
        time.sleep(1)
    pytest.fail(f"the bot did not switch models within {SWAP_SECONDS} s: {replies}")


def retrain(session: requests.Session, url: str) -> int:
    response = session.post(url + "/api/models/retrain", headers={"X-CSRF-Token": session.csrf})
    assert response.status_code == 202, response.text
    return response.json()["job"]


def test_the_model_server_protocol(stack):
    console, _ = stack
    url = f"{console.url}/api/models/live"
    assert requests.get(url, timeout=10).status_code == 403
    assert requests.get(url, params={"token": "wrong"}, timeout=10).status_code == 403
    with console.app.ctx.services.db.session() as session:
        live = registry.live_model(session)
        size = registry.model_path(console.settings, live).stat().st_size
    response = requests.get(url, params={"token": TOKEN}, timeout=60)
    assert response.status_code == 200
    assert response.headers["ETag"] == live.name
    assert response.headers["filename"] == f"{live.name}.tar.gz"
    assert len(response.content) == size
    unchanged = requests.get(
        url, params={"token": TOKEN}, headers={"If-None-Match": live.name}, timeout=10
    )
    assert unchanged.status_code == 304


def registry_row(console, model_id: int):
    with console.app.ctx.services.db.session() as session:
        row = session.get(TrainedModel, model_id)
        session.expunge(row)
        return row


def test_misunderstood_question_to_corrected_live_bot_gate_and_rollback(stack, project, tmp_path):
    console, bot = stack
    reviewer, admin = console.session("reviewer"), console.session("admin")

    # A phrasing the live (shipped) model gets wrong; a visitor rates the answer down.
    text, faq, before = next(
        ((text, faq, replies) for text, faq in CANDIDATES
         if not answers_with(replies := texts(bot, text), faq)),
        (None, None, None),
    )  # fmt: skip
    assert text, "the shipped model answers every candidate: add a harder paraphrase"
    rate_down(bot, text)

    # Annotate it in the inbox; the export preview shows one new example.
    groups = reviewer.get(console.url + "/api/inbox").json()["groups"]
    [group] = [g for g in groups if g["text"] == text]
    annotated = reviewer.post(
        console.url + "/api/inbox/annotate",
        json={"action": "assign_intent", "intent": faq, "group": [group["key"]]},
        headers={"X-CSRF-Token": reviewer.csrf},
    )
    assert annotated.status_code == 200, annotated.text
    plan = reviewer.get(console.url + "/api/models/export-preview").json()
    assert [(e["text"], e["intent"]) for e in plan["added"]] == [(text, faq)]
    assert plan["adds_intent"] is False

    # Retrain; a second request while it runs is refused with the running job's id.
    job_id = retrain(reviewer, console.url)
    second = admin.post(console.url + "/api/models/retrain", headers={"X-CSRF-Token": admin.csrf})
    assert second.status_code == 409
    assert second.json() == {"error": "already training", "job": job_id}
    job = wait_for_job(reviewer, console.url, job_id)
    assert job["status"] == "live", job
    assert job["plan"]["added"][0]["text"] == text
    model = reviewer.get(f"{console.url}/api/models/{job['model_id']}").json()
    assert model["model"]["finetuned"] is True
    assert model["report"]["gate"]["passed"] is True
    assert model["report"]["gate"]["comparison"]["per_intent_f1"]
    assert text in (project / REVIEWED).read_text()
    assert not list((project / "data").rglob("reviewed.yml"))  # tracked files stay as pulled

    # `make train` now reuses the live model (trained on exactly these inputs) instead of
    # training again, and `make run` registers nothing: the gated model stays live.
    trained = tmp_path / "certbot.tar.gz"
    assert reuse_live(console.settings, trained)
    live = registry.model_path(console.settings, registry_row(console, job["model_id"]))
    assert trained.read_bytes() == live.read_bytes()
    assert registry.bootstrap(console.app.ctx.services.db, console.settings, trained) is None

    # The running bot picks the new model up without a restart and now answers correctly.
    fixed = wait_for_answer(bot, text, lambda replies: answers_with(replies, faq))

    # A corrupted training set (two FAQs' examples swapped) is rejected; the bot is unchanged.
    faq_file = project / "data/nlu/faq.yml"
    original = faq_file.read_text()
    swapped = (
        original.replace("intent: faq/who_certifies", "intent: SWAP")
        .replace("intent: faq/iso_certifies", "intent: faq/who_certifies")
        .replace("intent: SWAP", "intent: faq/iso_certifies")
    )
    faq_file.write_text(swapped)
    try:
        rejected = wait_for_job(reviewer, console.url, retrain(reviewer, console.url))
    finally:
        faq_file.write_text(original)
    assert rejected["status"] == "rejected", rejected
    bad = reviewer.get(f"{console.url}/api/models/{rejected['model_id']}").json()["model"]
    assert bad["status"] == "rejected" and not bad["gate_passed"]
    assert any("faq/who_certifies" in reason for reason in bad["gate_reasons"])
    time.sleep(6)  # three pull intervals: a rejected model is never served
    assert answers_with(texts(bot, text), faq)
    assert texts(bot, text) == fixed

    # Activating the rejected model needs an admin and a written reason.
    activate = f"{console.url}/api/models/{bad['id']}/activate"
    assert reviewer.post(activate, headers={"X-CSRF-Token": reviewer.csrf}).status_code == 403
    refused = admin.post(activate, json={"reason": ""}, headers={"X-CSRF-Token": admin.csrf})
    assert refused.status_code == 400 and "write why" in refused.json()["error"]

    # Rollback restores the previous model and its answers.
    rolled = admin.post(console.url + "/api/models/rollback", headers={"X-CSRF-Token": admin.csrf})
    assert rolled.status_code == 200, rolled.text
    assert rolled.json()["live"]["created_by"] == "make train"
    assert wait_for_answer(bot, text, lambda replies: not answers_with(replies, faq)) == before


def test_models_pages_in_chromium_are_accessible(stack, browser):
    """After the flow above: the registry, a job and a report, by an admin, checked by axe."""
    console, _ = stack
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        sign_in(page, console, "admin")
        page.get_by_role("link", name="Models").click()
        expect(page.get_by_role("heading", name="Models and retraining")).to_be_visible()
        expect(page.get_by_role("button", name="Retrain")).to_be_enabled()
        rows = page.locator("table tbody tr")
        expect(rows.filter(has_text="rejected").first).to_be_visible()
        assert_accessible(page)
        page.get_by_role("link", name=re.compile(r"^job \d+$")).click()
        expect(page.get_by_role("heading", name=re.compile(r"^Training job"))).to_be_visible()
        expect(page.get_by_label("Training epochs")).to_be_attached()
        assert_accessible(page)
        page.get_by_role("link", name="Evaluation report of the new model").click()
        expect(page.get_by_role("columnheader", name="Change")).to_be_visible()
        expect(page.get_by_label(re.compile("Why activate it"))).to_be_visible()
        assert_accessible(page)
        assert errors == []
    finally:
        context.close()


def test_a_new_answer_waits_for_an_admin_who_approves_it_in_chromium(stack, project, browser):
    """A reviewer's new FAQ (with a link) trains and passes the gate but goes live only when
    an admin, who sees it as the widget shows it with its link target, approves it."""
    console, bot = stack
    reviewer = console.session("reviewer")
    pull = f"{console.url}/api/models/live"
    before = requests.get(pull, params={"token": TOKEN}, stream=True, timeout=60)
    before.close()
    for text in PORTAL_QUESTIONS:
        rate_down(bot, text)
    groups = reviewer.get(console.url + "/api/inbox").json()["groups"]
    keys = [g["key"] for g in groups if g["text"] in PORTAL_QUESTIONS]
    assert len(keys) == len(PORTAL_QUESTIONS)

    def propose(answer: str) -> requests.Response:
        return reviewer.post(
            console.url + "/api/inbox/annotate",
            json={"action": "new_faq", "faq_name": "portal_login", "answer": answer, "group": keys},
            headers={"X-CSRF-Token": reviewer.csrf},
        )

    # A link to another domain, or to a look-alike of the allowed one, is refused at once.
    for target in (
        "https://evil.example/login",
        "https://bulltek.example.evil.net/login",
        "https://evil-bulltek.example/login",
    ):
        refused = propose(PORTAL_ANSWER.replace(PORTAL, target))
        assert refused.status_code == 400, refused.text
        assert "which is not an allowed domain" in refused.json()["error"]
    assert propose(PORTAL_ANSWER).status_code == 200

    # The reviewer's retraining trains, evaluates and gates, then waits for an approval.
    job = wait_for_job(reviewer, console.url, retrain(reviewer, console.url))
    assert (job["status"], job["stage"]) == ("awaiting", "approve"), job
    found = reviewer.get(f"{console.url}/api/models/{job['model_id']}").json()
    assert found["model"]["status"] == "awaiting" and found["model"]["gate_passed"] is True
    changes = found["answers"]["changes"]
    assert [(c["kind"], c["response"]) for c in changes] == [("new", "utter_faq/portal_login")]
    assert changes[0]["new"] == [{"text": PORTAL_ANSWER}]
    still = requests.get(
        pull, params={"token": TOKEN}, headers={"If-None-Match": before.headers["ETag"]}, timeout=60
    )
    assert still.status_code == 304  # the live model is unchanged
    approve = f"{console.url}/api/models/{job['model_id']}/approve"
    digest = {"changes": found["answers"]["digest"]}
    assert (
        reviewer.post(approve, json=digest, headers={"X-CSRF-Token": reviewer.csrf}).status_code
        == 403
    )
    reviewed = project / REVIEWED
    assert not reviewed.exists() or PORTAL not in reviewed.read_text()

    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        sign_in(page, console, "admin")
        page.goto(f"{console.url}/models/jobs/{job['id']}")
        expect(
            page.get_by_role("heading", name="Answers awaiting an admin's approval")
        ).to_be_visible()
        assert_accessible(page)
        page.get_by_role("link", name="Models", exact=True).click()
        pending = page.locator("section").filter(
            has=page.get_by_role("heading", name="Answers awaiting approval")
        )
        bubble = pending.locator(".bubble")
        expect(bubble.locator("strong")).to_have_text("Sign in")
        expect(bubble.locator(".as-link")).to_have_text("bulltek.example/login")
        expect(bubble.locator(".link-target")).to_have_text(f"→ {PORTAL}")
        expect(bubble).to_contain_text("<b>not bold</b>")  # shown as text, never as markup
        expect(pending.locator(".links")).to_contain_text(f"“bulltek.example/login” → {PORTAL}")
        assert_accessible(page)
        pending.get_by_role("button", name=re.compile(r"^Approve 1 answer change")).click()
        expect(page.get_by_role("heading", name=re.compile(r"^Model "))).to_be_visible()
        expect(page.locator("dl")).to_contain_text("Answer changes approved")
        assert errors == []
    finally:
        context.close()

    live = reviewer.get(f"{console.url}/api/models/{job['model_id']}").json()["model"]
    assert (live["status"], live["created_by"]) == ("live", "reviewer")
    assert live["activated_by"] == "admin" and live["approved_by"] == "admin"
    assert PORTAL in reviewed.read_text()
    wait_for_answer(bot, PORTAL_QUESTIONS[0], lambda replies: any(PORTAL in r for r in replies))


def test_an_edited_answer_goes_live_without_training_or_restart(stack, project, tmp_path):
    """`make train` after an edit of answer texts only: the live model with the new answers,
    through the gate, pulled by the running bot (issue 14: 105 s of training, then a restart).
    """
    console, bot = stack
    domain = project / "domain.yml"
    old = "**No.** ISO develops and publishes standards, but it does not certify"
    assert old in domain.read_text()
    domain.write_text(domain.read_text().replace(old, old.replace("No.", "No (edited).")))
    started = time.monotonic()
    edited = tmp_path / "certbot.tar.gz"
    assert with_edited_answers(console.settings, edited)
    assert make.register(console.settings, edited)
    with console.app.ctx.services.db.session() as session:
        live = registry.live_model(session)
        assert live.created_by == "make train" and live.gate_passed
        answers = archive_responses(registry.model_path(console.settings, live))
    assert "No (edited)." in answers["utter_faq/iso_certifies"][0]["text"]
    replies = wait_for_answer(bot, "Does ISO issue certificates?", lambda r: "(edited)" in str(r))
    print(f"edit to live: {time.monotonic() - started:.1f} s")
    assert any(reply.startswith("**No (edited).**") for reply in replies)

    # A change beyond answer texts (a new example) is not taken for an answer edit.
    faq = project / "data/nlu/faq.yml"
    faq.write_text(
        faq.read_text().replace("examples: |\n", "examples: |\n    - a new example\n", 1)
    )
    assert not with_edited_answers(console.settings, tmp_path / "other.tar.gz")
