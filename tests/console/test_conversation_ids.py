"""Conversation ids that need percent-encoding in a URL (issue 11, finding 6): following
the console's own links and forms, every per-conversation action works on them."""

from __future__ import annotations

import html
import re
from urllib.parse import quote

import pytest
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered

from tests.console.conftest import EventStore, make_console

# A space, a quote, non-ASCII, +, #, ?, /, % (alone, before hex digits, as %25 and as an
# encoded slash): each must arrive decoded exactly once.
ODD_IDS = [
    "with space",
    'say "hi"',
    "café-é",
    "a+b",
    "hash#tag",
    "what?x=1&y",
    "slash/ed",
    "/leading-and-trailing/",
    "100%",
    "percent%41hex",
    "percent%2541twice",
    "encoded%2Fslash",
    " mix /?#%+\"é' ",
]
HREF = re.compile(r'(?:href|action)="(/(?:conversations|contacts)/[^"]+)"')
SHOWN_ID = re.compile(r"<h1>Conversation <code>(.*?)</code></h1>", re.DOTALL)


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> EventStore:
    """The odd ids (in a store of their own), each with a question, an answer and a contact
    request."""
    store = EventStore(tmp_path_factory.mktemp("ids-store") / "conversations.db")
    for number, cid in enumerate(ODD_IDS):
        store.save(
            cid,
            [
                ActionExecuted("action_listen"),
                # A doubtful question of its own, so that the inbox links to each conversation.
                UserUttered(f"weather {number}", {"name": "out_of_scope", "confidence": 0.4}),
                BotUttered("I can only help with certification.", {}, {"utter_action": "x"}),
                SlotSet(
                    "contact_request",
                    {
                        "name": "Ana",
                        "email": "ana@example.com",
                        "question": "weather",
                        "consent": True,
                        "submitted_at": "2024-05-01T10:00:00+00:00",
                    },
                ),
            ],
        )
    return store


@pytest.fixture(scope="module")
def console(tmp_path_factory, store):
    running = make_console(tmp_path_factory.mktemp("ids-console"), store, "ids")
    yield running
    running.served.stop()


@pytest.fixture(scope="module")
def admin(console):
    return console.session("admin")


def links(page: str, prefix: str) -> list[str]:
    """The page's hrefs and form actions under `prefix`, as the browser reads them."""
    return [html.unescape(found) for found in HREF.findall(page) if found.startswith(prefix)]


def transcript_link(admin, console, cid: str, list_path: str) -> str:
    """The link to the conversation on a list page, found by following each link."""
    for link in links(admin.get(console.url + list_path).text, "/conversations/"):
        page = admin.get(console.url + link)
        assert page.status_code == 200, (link, page.text[:200])
        if html.unescape(SHOWN_ID.search(page.text).group(1)) == cid:
            return link
    raise AssertionError(f"no link on {list_path} opens {cid!r}")


def form_post(admin, console, action: str, fields: dict) -> str:
    """Submit a page form; the page it redirects to (checked to open)."""
    response = admin.post(
        console.url + action, data={"csrf_token": admin.csrf, **fields}, allow_redirects=False
    )
    assert response.status_code == 303, (action, response.status_code, response.text[:200])
    location = response.headers["Location"]
    assert admin.get(console.url + location).status_code == 200, location
    return location


def test_decoding_twice_would_open_another_conversation(store, admin, console):
    """`percent%2541hex` is the id `percent%41hex`; decoded twice it would be `percentAhex`."""
    store.save("percentAhex", [UserUttered("the other one", {"name": "greet"})])
    body = admin.get(f"{console.url}/api/conversations/{quote('percent%41hex', safe='')}")
    assert body.status_code == 200 and body.json()["id"] == "percent%41hex"
    assert body.json()["first_question"] == f"weather {ODD_IDS.index('percent%41hex')}"
    assert admin.get(f"{console.url}/api/conversations/percentAhex").json()["id"] == "percentAhex"


@pytest.mark.parametrize("cid", ODD_IDS)
def test_every_action_on_an_odd_id(admin, console, cid):
    api = f"{console.url}/api/conversations/{quote(cid, safe='')}"
    headers = {"X-CSRF-Token": admin.csrf}

    link = transcript_link(admin, console, cid, "/conversations")
    assert link == f"/conversations/{quote(cid, safe='')}"
    assert transcript_link(admin, console, cid, "/inbox") == link
    assert transcript_link(admin, console, cid, "/contacts") == link
    assert admin.get(api).json()["id"] == cid

    forms = links(admin.get(console.url + link).text, "/conversations/")
    assert forms == [link + "/review", link + "/review", link + "/delete"]
    assert form_post(admin, console, forms[1], {"tags": "odd id", "note": "a note"}) == link
    assert form_post(admin, console, forms[0], {"reviewed": "yes"}) == link
    review = admin.get(api).json()["review"]
    assert review["tags"] == ["odd id"] and review["note"] == "a note" and review["reviewed"]
    api_review = admin.post(api + "/review", json={"note": "via the API"}, headers=headers)
    assert api_review.status_code == 200 and api_review.json()["note"] == "via the API"

    [close] = [a for a in links(admin.get(console.url + "/contacts").text, "/contacts/")
               if a == f"/contacts/{quote(cid, safe='')}/status"]  # fmt: skip
    form_post(admin, console, close, {"status": "done"})
    done = admin.get(console.url + "/api/contacts?status=done").json()["contacts"]
    assert cid in {row["conversation_id"] for row in done}
    reopened = admin.post(
        f"{console.url}/api/contacts/{quote(cid, safe='')}/status",
        json={"status": "open"},
        headers=headers,
    )
    assert reopened.status_code == 200 and reopened.json()["conversation_id"] == cid

    assert form_post(admin, console, forms[2], {}) == "/conversations"
    assert admin.get(api).status_code == 404
    assert cid not in {row["id"] for row in admin.get(console.url + "/api/conversations").json()[
        "conversations"]}  # fmt: skip
    entries = admin.get(console.url + "/api/audit").json()["entries"]
    assert any(e["what"] == "delete conversation" and e["details"] == cid for e in entries)
