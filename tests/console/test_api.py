"""The console's JSON API and pages against real conversations in the bot's SQLite store."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest
import yaml
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from console.inbox import SPOT_CHECK, sampled
from tests.console.conftest import HTML_MESSAGE, make_console
from tests.servers import ROOT


@pytest.fixture(scope="module")
def console(tmp_path_factory, bot, conversations):
    running = make_console(tmp_path_factory.mktemp("console"), bot, "api", retention_days=30)
    yield running
    running.served.stop()


@pytest.fixture(scope="module")
def viewer(console):
    return console.session("viewer")


@pytest.fixture(scope="module")
def reviewer(console):
    return console.session("reviewer")


@pytest.fixture(scope="module")
def admin(console):
    return console.session("admin")


def rows_of(session, console, query: str = "") -> list[dict]:
    response = session.get(f"{console.url}/api/conversations?{query}")
    assert response.status_code == 200, response.text
    return response.json()["conversations"]


def ids_of(session, console, query: str = "") -> list[str]:
    return [row["id"] for row in rows_of(session, console, query)]


def listed(session, console, query: str = "") -> list[dict]:
    """Every row of the list, page after page."""
    rows, page = [], 1
    while batch := rows_of(session, console, f"{query}&page={page}"):
        rows += batch
        page += 1
    return rows


def all_ids(session, console, query: str = "") -> set[str]:
    return {row["id"] for row in listed(session, console, query)}


def post(session, url: str, body: dict):
    return session.post(url, json=body, headers={"X-CSRF-Token": session.csrf})


def test_list_is_newest_first_with_summaries(viewer, console, conversations):
    body = viewer.get(console.url + "/api/conversations").json()
    assert body["page"] == 1 and body["page_size"] == 25
    rows = body["conversations"]
    assert [r["last_event"] for r in rows] == sorted((r["last_event"] for r in rows), reverse=True)
    row = next(r for r in body["conversations"] if r["id"] == conversations["html"])
    assert row["first_question"] == HTML_MESSAGE
    assert row["messages"] == 1


@pytest.mark.parametrize(
    ("query", "kinds_in", "kinds_out"),
    [
        ("fell_back=yes", {"dym"}, {"faq", "decline", "contact"}),
        ("declined=yes", {"decline"}, {"faq", "dym"}),
        ("negative=yes", {"down"}, {"faq", "dym"}),
        ("contact=yes", {"contact"}, {"faq", "down"}),
        ("below=0.65", {"dym"}, {"faq"}),
        ("intent=faq", {"faq", "down"}, {"decline"}),
        ("intent=faq/who_certifies", {"faq", "down"}, {"decline", "contact"}),
        ("q=PARIS", {"decline"}, {"faq", "dym"}),
    ],
)
def test_filters(viewer, console, conversations, query, kinds_in, kinds_out):
    found = all_ids(viewer, console, query)
    assert {conversations[k] for k in kinds_in} <= found
    assert not {conversations[k] for k in kinds_out} & found


@pytest.mark.parametrize(
    ("query", "included"),
    [("from={day}&to={day}", True), ("from={next}", False), ("to={previous}", False)],
)
@pytest.mark.parametrize("kind", ["faq", "dym", "contact"])
def test_date_filters(viewer, console, conversations, kind, query, included):
    cid = conversations[kind]
    [row] = [r for r in listed(viewer, console) if r["id"] == cid]
    day = datetime.fromtimestamp(row["started"], timezone.utc).date()  # UTC, as the console
    found = all_ids(viewer, console, query.format(
        day=day, next=day + timedelta(days=1), previous=day - timedelta(days=1)
    ))  # fmt: skip
    assert (cid in found) is included


def test_reviewed_filter(reviewer, console, conversations):
    cid = conversations["decline"]
    assert post(reviewer, f"{console.url}/api/conversations/{cid}/review", {"reviewed": True}).ok
    assert cid in all_ids(reviewer, console, "reviewed=yes")
    assert cid not in all_ids(reviewer, console, "reviewed=no")


@pytest.mark.parametrize(
    "query",
    [
        "from=yesterday",
        "to=2024-02-30",
        "below=1.5",
        "below=abc",
        "fell_back=maybe",
        "reviewed=perhaps",
        "page=0",
        "page=-1",
        "page=two",
        "from=2024-05-02&to=2024-05-01",
    ],
)
def test_bad_filters_are_400_with_a_message(viewer, console, query):
    response = viewer.get(f"{console.url}/api/conversations?{query}")
    assert response.status_code == 400
    assert response.json()["error"].startswith("'")
    page = viewer.get(f"{console.url}/conversations?{query}")
    assert page.status_code == 400
    assert "Cannot filter:" in page.text


@pytest.mark.parametrize("page", ["99999", "9" * 40])
def test_huge_page_numbers_give_an_empty_page(viewer, console, page):
    response = viewer.get(f"{console.url}/api/conversations?page={page}")
    assert response.status_code == 200
    assert response.json()["conversations"] == []
    assert viewer.get(f"{console.url}/conversations?page={page}").status_code == 200


def test_transcript_of_an_faq(viewer, console, conversations):
    body = viewer.get(f"{console.url}/api/conversations/{conversations['faq']}").json()
    [question] = [t for t in body["turns"] if t["kind"] == "visitor"]
    assert question["intent"] == "faq/who_certifies"
    assert question["confidence"] > 0.9
    assert len(question["runner_ups"]) == 3
    assert ["standard", "ISO 9001"] in question["entities"]
    replies = [t for t in body["turns"] if t["kind"] == "bot"]
    assert replies[0]["response"] == "utter_greet" and len(replies[0]["buttons"]) == 3
    assert replies[-1]["response"] == "utter_faq/who_certifies"
    assert "ISO 9001 certificates" in replies[-1]["text"]


def test_transcript_flags(viewer, console, conversations):
    def flags(kind):
        return viewer.get(f"{console.url}/api/conversations/{conversations[kind]}").json()["flags"]

    assert flags("dym")["fell_back"] and not flags("dym")["declined"]
    body = viewer.get(f"{console.url}/api/conversations/{conversations['dym']}").json()
    # The entity that empties the `standard` slot (no standard named) is not listed.
    assert all(t["entities"] == [] for t in body["turns"] if t["kind"] == "visitor")
    assert flags("decline")["declined"]
    assert flags("down")["negative"]
    assert flags("contact")["contact"]
    assert not any(flags("faq").values())


def test_feedback_and_commands_are_shown_but_not_counted(viewer, console, conversations):
    body = viewer.get(f"{console.url}/api/conversations/{conversations['down']}").json()
    question, rating = [t for t in body["turns"] if t["kind"] == "visitor"]
    assert rating["command"] and rating["rating"] == "down"
    assert rating["feedback_for"].startswith("Certificates are issued by")
    assert body["negative_for"] == [question["index"]]
    assert body["visitor_messages"] == 1
    assert body["first_question"] == "who issues ISO certificates?"


def test_contact_request_in_transcript(viewer, console, conversations):
    body = viewer.get(f"{console.url}/api/conversations/{conversations['contact']}").json()
    request = body["contact_request"]
    assert request["name"] == "Ana Pereira" and request["consent"] is True
    assert request["submitted_at"]


def test_unknown_conversation_is_404(viewer, console):
    assert viewer.get(console.url + "/api/conversations/no-such-id").status_code == 404
    page = viewer.get(console.url + "/conversations/no-such-id")
    assert page.status_code == 404 and "Not found" in page.text


def test_html_is_escaped_everywhere(reviewer, console, conversations):
    cid = conversations["html"]
    note = "<script>alert('note')</script>"
    assert post(reviewer, f"{console.url}/api/conversations/{cid}/review", {"note": note}).ok
    for path in (f"/conversations/{cid}", "/conversations", "/inbox"):
        page = reviewer.get(console.url + path).text
        assert HTML_MESSAGE not in page and "<script>alert" not in page, path
        assert "&lt;img src=x onerror=" in page, path
    assert (
        "&lt;script&gt;alert(&#39;note&#39;)&lt;/script&gt;"
        in reviewer.get(f"{console.url}/conversations/{cid}").text
    )


def test_tags_note_and_review_mark(reviewer, console, conversations):
    url = f"{console.url}/api/conversations/{conversations['faq']}/review"
    response = post(reviewer, url, {"tags": ["good answer", "iso-9001"], "note": "fine"})
    assert response.json() == {
        "tags": ["good answer", "iso-9001"],
        "note": "fine",
        "reviewed": False,
        "reviewed_by": None,
        "reviewed_at": None,
    }
    assert post(reviewer, url, {"reviewed": True}).json()["reviewed"] is True
    body = reviewer.get(f"{console.url}/api/conversations/{conversations['faq']}").json()
    assert body["review"]["tags"] == ["good answer", "iso-9001"]
    assert body["review"]["reviewed_by"] == "reviewer"


def test_page_forms_save_and_redirect(reviewer, console, conversations):
    cid = conversations["faq"]
    response = reviewer.post(
        f"{console.url}/conversations/{cid}/review",
        data={"csrf_token": reviewer.csrf, "tags": "a, b", "note": "from the form"},
        allow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["Location"] == f"/conversations/{cid}"
    assert "from the form" in reviewer.get(console.url + response.headers["Location"]).text


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"note": "x" * 2001, "tags": ["would-be-saved"]}, 413),
        ({"tags": ["<b>"], "note": "would be saved"}, 400),
        ({"tags": [f"t{n}" for n in range(21)]}, 400),
        ({"reviewed": "sometimes"}, 400),
        ({"note": {"nested": 1}}, 400),
    ],
)
def test_bad_review_input_saves_nothing(reviewer, console, conversations, body, status):
    cid = conversations["contact"]
    before = reviewer.get(f"{console.url}/api/conversations/{cid}").json()["review"]
    response = post(reviewer, f"{console.url}/api/conversations/{cid}/review", body)
    assert response.status_code == status
    assert response.json()["error"]
    assert reviewer.get(f"{console.url}/api/conversations/{cid}").json()["review"] == before


def test_malformed_and_oversized_bodies(reviewer, console, conversations):
    url = f"{console.url}/api/conversations/{conversations['faq']}/review"
    headers = {"X-CSRF-Token": reviewer.csrf, "Content-Type": "application/json"}
    assert reviewer.post(url, data=b"{not json", headers=headers).status_code == 400
    assert reviewer.post(url, data=b"[1, 2]", headers=headers).status_code == 400
    assert reviewer.post(url, data=b"x" * 2_000_000, headers=headers).status_code == 413
    assert (
        reviewer.post(
            f"{console.url}/api/conversations/nope/review", json={}, headers=headers
        ).status_code
        == 404
    )


def inbox(session, console) -> dict:
    response = session.get(console.url + "/api/inbox")
    assert response.status_code == 200
    return response.json()


def group_with(body: dict, cid: str) -> dict | None:
    return next(
        (g for g in body["groups"] if any(m["conversation_id"] == cid for m in g["messages"])), None
    )


def test_inbox_lists_doubtful_messages(viewer, console, conversations):
    body = inbox(viewer, console)
    assert "fell back" in group_with(body, conversations["dym"])["reasons"]
    assert "declined" in group_with(body, conversations["decline"])["reasons"]
    down = group_with(body, conversations["down"])
    assert "thumbs down" in down["reasons"]
    assert down["text"].lower() == "who issues iso certificates?"
    answered = group_with(body, conversations["faq"])  # only ever as a spot check
    if answered is not None:
        assert answered["reasons"] == [SPOT_CHECK]
        assert sampled(conversations["faq"], answered["messages"][0]["event_index"])
    names = {i["name"]: i["answer"] for i in body["intents"]}
    assert names["faq/who_certifies"].startswith("Certificates are issued by")
    assert "greet" in names and "feedback" not in names and "faq" not in names


def test_inbox_groups_near_identical_texts(bot, viewer, console):
    senders = [f"console-group-{n}-{time.monotonic_ns()}" for n in range(2)]
    bot.say(senders[0], "What's the weather like in Oslo tomorrow?")
    bot.say(senders[1], "  what's the WEATHER like in oslo   tomorrow!! ")
    group = group_with(inbox(viewer, console), senders[0])
    assert group["key"] == "what s the weather like in oslo tomorrow"
    assert set(senders) <= {m["conversation_id"] for m in group["messages"]}


def test_annotate_and_undo(bot, reviewer, console):
    sender = f"console-annotate-{time.monotonic_ns()}"
    bot.say(sender, "what's the weather like in Lisbon tomorrow")
    key = group_with(inbox(reviewer, console), sender)["key"]
    response = post(
        reviewer,
        console.url + "/api/inbox/annotate",
        {"group": [key], "action": "assign_intent", "intent": "out_of_scope"},
    )
    assert response.status_code == 200, response.text
    [annotation_id, *_] = response.json()["annotations"]
    body = inbox(reviewer, console)
    assert group_with(body, sender) is None
    mine = next(a for a in body["annotations"] if a["id"] == annotation_id)
    assert mine["by"] == "reviewer" and mine["intent"] == "out_of_scope" and mine["at"]
    undo = post(reviewer, f"{console.url}/api/annotations/{annotation_id}/undo", {})
    assert undo.status_code == 200
    assert group_with(inbox(reviewer, console), sender) is not None
    again = post(reviewer, f"{console.url}/api/annotations/{annotation_id}/undo", {})
    assert again.status_code == 409
    assert post(reviewer, f"{console.url}/api/annotations/999999/undo", {}).status_code == 404


def test_bulk_annotation_of_several_groups(bot, reviewer, console):
    senders = [f"console-bulk-{n}-{time.monotonic_ns()}" for n in range(2)]
    bot.say(senders[0], "what ISO setting should I use for night photos of stars")
    bot.say(senders[1], "how do I burn a linux iso file to a usb stick quickly")
    body = inbox(reviewer, console)
    keys = [group_with(body, s)["key"] for s in senders]
    response = post(
        reviewer, console.url + "/api/inbox/annotate", {"group": keys, "action": "out_of_scope"}
    )
    assert response.status_code == 200 and len(response.json()["annotations"]) == 2
    body = inbox(reviewer, console)
    assert all(group_with(body, s) is None for s in senders)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"action": "assign_intent", "intent": "faq/made_up"}, 400),
        ({"action": "assign_intent", "intent": ""}, 400),
        ({"action": "rename"}, 400),
        ({"action": "new_faq", "faq_name": "Bad Name", "answer": "x"}, 400),
        ({"action": "new_faq", "faq_name": "who_certifies", "answer": "x"}, 400),
        ({"action": "new_faq", "faq_name": "audit_time", "answer": ""}, 400),
        ({"action": "new_faq", "faq_name": "audit_time", "answer": "x" * 1001}, 413),
        ({"action": "out_of_scope", "group": []}, 400),
        ({"action": "out_of_scope", "group": ["no such group at all"]}, 409),
    ],
)
def test_bad_annotations_are_refused(reviewer, console, conversations, body, status):
    group = group_with(inbox(reviewer, console), conversations["dym"])["key"]
    response = post(reviewer, console.url + "/api/inbox/annotate", {"group": [group], **body})
    assert response.status_code == status, response.text
    assert group_with(inbox(reviewer, console), conversations["dym"]) is not None


def test_new_faq_proposal_is_recorded(bot, reviewer, console):
    sender = f"console-newfaq-{time.monotonic_ns()}"
    bot.say(sender, "what's the weather like in Rome tomorrow")
    group = group_with(inbox(reviewer, console), sender)
    answer = "Usually **three years**, with <surveillance> audits."
    response = post(
        reviewer,
        console.url + "/api/inbox/annotate",
        {"group": [group["key"]], "action": "new_faq", "faq_name": "validity", "answer": answer},
    )
    assert response.status_code == 200
    [annotation] = [
        a
        for a in inbox(reviewer, console)["annotations"]
        if a["id"] in response.json()["annotations"]
    ][:1]
    assert annotation["faq_name"] == "validity" and annotation["faq_answer"] == answer
    assert "new FAQ faq/validity" in reviewer.get(console.url + "/inbox").text


def contacts(session, console, status: str = "all") -> list[dict]:
    response = session.get(f"{console.url}/api/contacts?status={status}")
    assert response.status_code == 200
    return response.json()["contacts"]


def test_contact_requests_close_and_reopen(reviewer, console, conversations):
    cid = conversations["contact"]
    [row] = [r for r in contacts(reviewer, console, "open") if r["conversation_id"] == cid]
    assert row["email"] == "ana@example.com" and row["status"] == "open"
    url = f"{console.url}/api/contacts/{cid}/status"
    assert post(reviewer, url, {"status": "done"}).status_code == 200
    [row] = [r for r in contacts(reviewer, console, "done") if r["conversation_id"] == cid]
    assert row["closed_by"] == "reviewer" and row["closed_at"]
    assert cid not in {r["conversation_id"] for r in contacts(reviewer, console, "open")}
    assert post(reviewer, url, {"status": "open"}).status_code == 200
    assert cid in {r["conversation_id"] for r in contacts(reviewer, console, "open")}


def test_contact_status_bad_input(reviewer, console, conversations):
    url = f"{console.url}/api/contacts/{conversations['contact']}/status"
    assert post(reviewer, url, {"status": "closed"}).status_code == 400
    assert (
        post(
            reviewer,
            f"{console.url}/api/contacts/{conversations['faq']}/status",
            {"status": "done"},
        ).status_code
        == 404
    )
    assert reviewer.get(console.url + "/api/contacts?status=weird").status_code == 400


def test_contacts_csv_quotes_and_neutralises_formulas(viewer, console, conversations):
    response = viewer.get(console.url + "/contacts.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    [row] = [r for r in rows if r["conversation_id"] == conversations["contact"]]
    assert row["question"] == '\'=HYPERLINK("http://x") how long would ISO 9001 take?'
    assert row["name"] == "Ana Pereira"


def test_jsonl_export_streams_every_conversation_newest_first(viewer, console, conversations):
    response = viewer.get(console.url + "/export/conversations.jsonl")
    assert response.status_code == 200
    assert response.headers["Transfer-Encoding"] == "chunked"  # never built whole in memory
    assert response.headers["Content-Disposition"] == 'attachment; filename="conversations.jsonl"'
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    lines = [json.loads(line) for line in response.text.splitlines()]
    last_events = [line["last_event"] for line in lines]
    assert last_events == sorted(last_events, reverse=True)
    records = {r["id"]: r for r in lines}
    assert set(conversations.values()) <= set(records)
    assert records[conversations["dym"]]["flags"]["fell_back"]
    assert any(t["kind"] == "bot" for t in records[conversations["faq"]]["turns"])


def test_test_stories_export_is_valid_yaml(reviewer, console, conversations):
    cid = conversations["dym"]
    assert post(reviewer, f"{console.url}/api/conversations/{cid}/review", {"reviewed": True}).ok
    response = reviewer.get(console.url + "/export/test_stories.yml")
    assert response.status_code == 200
    document = yaml.safe_load(response.text)
    [story] = [s for s in document["stories"] if s["story"].endswith(cid)]
    assert {"user": "hello", "intent": "greet"} in story["steps"]
    assert {"action": "action_greet"} in story["steps"]
    assert {"action": "action_did_you_mean"} in story["steps"]
    assert all(set(step) <= {"user", "intent", "action", "active_loop"} for step in story["steps"])


def store(console) -> SQLTrackerStore:
    return console.app.ctx.services.source.store


def save_old_conversation(console, sender: str, days_ago: int) -> None:
    """An old conversation written through Rasa's own tracker store."""
    when = time.time() - days_ago * 86_400
    tracker = DialogueStateTracker(sender, Domain.load(str(ROOT / "domain.yml")).slots)
    tracker.update(ActionExecuted("action_listen", timestamp=when))
    tracker.update(
        UserUttered("an old question", {"name": "greet", "confidence": 0.9}, timestamp=when)
    )
    # In a thread of its own: the shared Chromium's sync Playwright keeps an event loop
    # marked as running in this one once a browser test has started it.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, store(console).save(tracker)).result()


def test_retention_from_the_api_and_the_command(admin, console, conversations):
    old_api, old_cli = f"console-old-{time.monotonic_ns()}", f"console-old2-{time.monotonic_ns()}"
    save_old_conversation(console, old_api, 40)
    response = post(admin, console.url + "/api/privacy/retention", {})
    assert response.status_code == 200
    assert response.json()["deleted"] == [old_api]
    assert admin.get(f"{console.url}/api/conversations/{old_api}").status_code == 404
    assert admin.get(f"{console.url}/api/conversations/{conversations['faq']}").status_code == 200

    save_old_conversation(console, old_cli, 40)
    env = {
        "CONSOLE_DB_URL": console.settings.db_url,
        "ENDPOINTS": str(console.settings.endpoints),
        "DOMAIN": str(console.settings.domain),
        "CONSOLE_SECRET": "x",
        "RETENTION_DAYS": "30",
        "PATH": "/usr/bin:/bin",
    }
    result = subprocess.run(
        [sys.executable, "-m", "console.retention"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "Deleted 1 conversation" in result.stdout
    assert admin.get(f"{console.url}/api/conversations/{old_cli}").status_code == 404
    entries = admin.get(console.url + "/api/audit").json()["entries"]
    assert {"retention (cli)", "admin"} <= {e["who"] for e in entries if e["what"] == "retention"}


def test_delete_one_conversation(bot, admin, console):
    sender = f"console-delete-{time.monotonic_ns()}"
    bot.say(sender, "certification")
    url = f"{console.url}/api/conversations/{sender}"
    assert post(admin, url + "/review", {"note": "delete me", "reviewed": True}).ok
    response = post(admin, url + "/delete", {})
    assert response.status_code == 200
    assert admin.get(url).status_code == 404
    assert sender not in all_ids(admin, console, "q=certification")
    assert post(admin, url + "/delete", {}).status_code == 404
    entries = admin.get(console.url + "/api/audit").json()["entries"]
    assert any(e["what"] == "delete conversation" and e["details"] == sender for e in entries)


def test_pages_render(admin, console, conversations):
    for path in (
        "/",
        "/conversations",
        f"/conversations/{conversations['contact']}",
        "/inbox",
        "/contacts",
        "/contacts?status=all",
        "/privacy",
    ):
        response = admin.get(console.url + path)
        assert response.status_code == 200, path
        assert "<svg" in response.text or path != "/"


@pytest.mark.parametrize(
    "path", ["/api/jobs/{}", "/api/models/{}", "/models/{}", "/models/jobs/{}"]
)
@pytest.mark.parametrize("number", [2**63, -(2**63) - 1, 10**40])
def test_an_id_beyond_64_bits_is_not_found(admin, console, path, number):
    reply = admin.get(console.url + path.format(number))
    assert reply.status_code == 404, reply.text
