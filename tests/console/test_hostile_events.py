"""Conversations whose events hold anything a visitor (or a broken client) could put in
them, stored through the bot's own tracker store: every console page and JSON API still
answers, and an admin can still delete the conversation (issue 11, finding 2)."""

from __future__ import annotations

import json
import uuid
from datetime import date
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st
from rasa.shared.core.events import (
    ActionExecuted,
    ActionReverted,
    ActiveLoop,
    AllSlotsReset,
    BotUttered,
    FollowupAction,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)

from console import exports
from console.filters import FLAG_NAMES, ConversationFilter
from console.inbox import group_items, inbox_items
from console.stats import dashboard
from console.summary import summarise
from tests.console.conftest import EventStore, make_console

# No example database (nothing written into the checkout); about 10 s.
FUZZ = settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
HTML_PAYLOAD = "<script>alert(1)</script>"

# Every page and JSON API that reads conversations, with the list's filters.
READERS = (
    "/",
    "/api/dashboard",
    "/conversations",
    "/api/conversations",
    "/conversations?q=a&intent=faq&below=0.9&from=1970-01-01&to=9999-12-31",
    "/api/conversations?fell_back=yes&declined=yes&negative=yes&contact=yes&reviewed=yes",
    "/api/conversations?negative=yes&reviewed=no",
    "/inbox",
    "/api/inbox",
    "/contacts?status=all",
    "/api/contacts?status=all",
    "/contacts.csv",
    "/export/conversations.jsonl",
    "/export/test_stories.yml",
)


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> EventStore:
    return EventStore(tmp_path_factory.mktemp("hostile-store") / "conversations.db")


@pytest.fixture(scope="module")
def console(tmp_path_factory, store):
    running = make_console(tmp_path_factory.mktemp("hostile-console"), store, "hostile")
    yield running
    running.served.stop()


@pytest.fixture(scope="module")
def admin(console):
    return console.session("admin")


def post(session, url: str, body: dict):
    return session.post(url, json=body, headers={"X-CSRF-Token": session.csrf})


def reads_and_deletes(admin, console, cid: str) -> dict:
    """Every reader answers without a server error, and the conversation can be deleted;
    the conversation's transcript as the API gave it."""
    url = f"{console.url}/api/conversations/{quote(cid, safe='')}"
    assert post(admin, url + "/review", {"reviewed": True, "tags": ["odd"]}).status_code == 200
    transcript = admin.get(url)
    assert transcript.status_code == 200, transcript.text
    page = admin.get(f"{console.url}/conversations/{quote(cid, safe='')}")
    assert page.status_code == 200, page.text
    assert HTML_PAYLOAD not in page.text
    for path in READERS:
        response = admin.get(console.url + path)
        assert response.status_code == 200, (path, response.text[:300])
        if not path.startswith("/api/") and "." not in path.split("?")[0]:  # a page: escaped
            assert HTML_PAYLOAD not in response.text, path
    closing = post(admin, f"{console.url}/api/contacts/{quote(cid, safe='')}/status",
                   {"status": "done"})  # fmt: skip
    assert closing.status_code in (200, 404), closing.text
    deleted = post(admin, url + "/delete", {})
    assert deleted.status_code == 200, deleted.text
    assert admin.get(url).status_code == 404
    return transcript.json()


def test_rating_for_a_dict_after_one_question(store, admin, console):
    """The finding as reported: `/feedback{"rating": "down"}` with metadata
    `{"feedback_for": {"a": 1}}` after one normal question."""
    cid = f"hostile-feedback-{uuid.uuid4().hex[:8]}"
    store.save(
        cid,
        [
            ActionExecuted("action_listen"),
            UserUttered("who issues ISO certificates?", {"name": "faq", "confidence": 0.93}),
            BotUttered("Certificates are issued by certification bodies."),
            ActionExecuted("action_listen"),
            UserUttered(
                '/feedback{"rating": "down"}',
                {"name": "feedback", "confidence": 1.0},
                [{"entity": "rating", "value": "down"}],
                metadata={"feedback_for": {"a": 1}},
            ),
        ],
    )
    body = reads_and_deletes(admin, console, cid)
    question, rating = [turn for turn in body["turns"] if turn["kind"] == "visitor"]
    assert rating["rating"] == "down" and rating["feedback_for"] is None
    assert body["negative_for"] == [question["index"]]  # the rated answer: the last one
    assert body["flags"]["negative"]
    json.dumps(body)  # plain JSON


# ---- Any JSON in any field: a property over events that Rasa itself accepts ----

WORDS = st.sampled_from(
    ["", "faq", "faq/who_certifies", "feedback", "rating", "down", "up", "nlu_fallback",
     "greet", "action_listen", "action_did_you_mean", "action_default_fallback",
     "utter_out_of_scope", "utter_greet", "contact_request", "contact_form", "name", "email",
     "question", "consent", "submitted_at", "/feedback", "/restart", HTML_PAYLOAD, "\x00",
     "\ud800", "\udfff x \ud83d", "1e999", "9" * 30, "=HYPERLINK(1)", "👍"]
)  # fmt: skip
# Any character, lone surrogates and NUL included (JSON can carry them: "\ud800").
TEXT = st.text(st.characters(blacklist_categories=()), max_size=30) | WORDS
# What an SQL column (intent and action names) can hold: no lone surrogates.
COLUMN_TEXT = st.text(st.characters(blacklist_categories=["Cs"]), max_size=30) | WORDS.filter(
    lambda word: "\ud800" not in word and "\udfff" not in word
)
NUMBERS = (
    st.integers()
    | st.floats()
    | st.sampled_from([0.0, 0.35, 0.93, 1.0, -1.0, 2.5, 1e308, -1e308, 10**30, 2**63])
)
JSON = st.recursive(
    st.none() | st.booleans() | NUMBERS | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)
COLUMN = st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats() | COLUMN_TEXT
# The store's timestamp column takes numbers and strings of numbers (the event keeps those).
TIMESTAMPS = (
    st.none()
    | st.floats()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats().map(str)
    | st.sampled_from([1.7e9, 1e300, -1e12, 253402300800.0, "1.7e9", "1e400", "nan", " 5 "])
)


def partial(**fields) -> st.SearchStrategy:
    """Dictionaries with any of these keys (their values drawn), and odd extra keys."""
    return st.builds(
        lambda known, extra: {**extra, **known},
        st.fixed_dictionaries({}, optional=fields),
        st.dictionaries(TEXT, JSON, max_size=2),
    )


INTENT = partial(name=COLUMN, confidence=NUMBERS | JSON, full_retrieval_intent_name=JSON)
ENTITIES = st.lists(partial(entity=WORDS | JSON, value=WORDS | JSON) | JSON, max_size=3) | (
    st.dictionaries(TEXT, JSON, max_size=2)
)
PARSE_DATA = partial(
    intent=INTENT,
    entities=ENTITIES,
    intent_ranking=st.lists(partial(name=WORDS | JSON, confidence=NUMBERS | JSON) | JSON) | JSON,
    response_selector=JSON
    | st.fixed_dictionaries(
        {"faq": partial(response=partial(intent_response_key=WORDS | JSON) | JSON) | JSON}
    ),
    text=JSON,
)
METADATA = JSON | partial(feedback_for=TEXT | JSON, utter_action=WORDS | JSON)
CONTACT = partial(
    name=TEXT | JSON, email=TEXT | JSON, question=TEXT | JSON, consent=JSON,
    submitted_at=TEXT | JSON,
) | JSON  # fmt: skip
SLOTS = st.sampled_from(
    ["contact_request", "contact_request", "contact_name", "contact_consent", "standard",
     "requested_slot", "no_such_slot"]
)  # fmt: skip

USER = st.builds(
    UserUttered,
    text=st.none() | TEXT | JSON,
    intent=INTENT,
    entities=ENTITIES,
    parse_data=PARSE_DATA,
    timestamp=TIMESTAMPS,
    input_channel=st.none() | COLUMN_TEXT,
    metadata=METADATA,
)
FEEDBACK = st.builds(
    lambda rating, target, when: UserUttered(
        '/feedback{"rating": "down"}',
        {"name": "feedback", "confidence": 1.0},
        [{"entity": "rating", "value": rating}],
        metadata={"feedback_for": target},
        timestamp=when,
    ),
    st.just("down") | JSON,
    TEXT | JSON,
    TIMESTAMPS,
)
BOT = st.builds(
    BotUttered,
    text=st.none() | TEXT | JSON,
    data=JSON | partial(buttons=st.lists(partial(title=TEXT | JSON) | JSON, max_size=3) | JSON),
    metadata=METADATA,
    timestamp=TIMESTAMPS,
)
EVENTS = st.one_of(
    USER,
    FEEDBACK,
    BOT,
    st.builds(SlotSet, SLOTS, st.one_of(CONTACT, JSON), TIMESTAMPS, METADATA),
    st.builds(
        ActionExecuted,
        action_name=COLUMN.filter(lambda name: name is not None) | WORDS,  # Rasa: not None
        policy=st.none() | COLUMN_TEXT,
        confidence=NUMBERS | JSON,
        timestamp=TIMESTAMPS,
        metadata=METADATA,
    ),
    st.builds(ActiveLoop, COLUMN | WORDS, TIMESTAMPS),
    st.builds(FollowupAction, COLUMN_TEXT, TIMESTAMPS),
    st.builds(SessionStarted, TIMESTAMPS),
    st.builds(Restarted, TIMESTAMPS),
    st.builds(UserUtteranceReverted, TIMESTAMPS),
    st.builds(ActionReverted, TIMESTAMPS),
    st.builds(AllSlotsReset, TIMESTAMPS),
)
# A normal question and answer first, so that ratings and flags have something to refer to.
OPENING = [
    ActionExecuted("action_listen"),
    UserUttered("who issues ISO certificates?", {"name": "faq", "confidence": 0.5}),
    BotUttered("Certificates are issued by certification bodies."),
]


def stored_as_rasa_accepts(store: EventStore, cid: str, events: list) -> None:
    """Store the conversation; skip the example when Rasa itself refuses it (its store
    cannot write it, or cannot read it back)."""
    try:
        store.save(cid, events)
    except Exception:
        store.forget(cid)
        reject()
    try:
        store.read_back(cid)
    except Exception:
        store.forget(cid)
        reject()


@FUZZ
@given(events=st.lists(EVENTS, min_size=1, max_size=6), opening=st.booleans())
def test_any_event_fields_break_no_reader(store, admin, console, events, opening):
    """Whatever the events hold, every reader answers, escaped, and deleting works."""
    cid = f"hostile-{uuid.uuid4().hex[:10]}"
    stored_as_rasa_accepts(store, cid, (OPENING if opening else []) + events)
    try:
        body = reads_and_deletes(admin, console, cid)
    finally:  # a failing example leaves nothing behind for the next ones
        store.forget(cid)
    for turn in body["turns"]:
        assert isinstance(turn["text"], str)
        assert turn["timestamp"] is None or isinstance(turn["timestamp"], float)


# Shapes the SQL stores refuse (an intent that is no object, names that are objects) can
# come from other tracker stores: the readers take any JSON for any event field.
OPINION = JSON | partial(answer=WORDS | JSON, likeliest=JSON | st.lists(WORDS | JSON, max_size=3))
RAW_EVENT = JSON | partial(
    event=st.sampled_from(["user", "bot", "action", "active_loop", "slot"]) | JSON,
    timestamp=TIMESTAMPS | JSON,
    text=TEXT | JSON,
    parse_data=JSON
    | partial(intent=JSON | INTENT, entities=JSON | ENTITIES, text=JSON, second_opinion=OPINION),
    metadata=METADATA,
    data=JSON,
    name=SLOTS | WORDS | JSON,
    value=CONTACT,
)


@settings(max_examples=200, deadline=None, database=None)
@given(events=st.lists(RAW_EVENT, max_size=8))
def test_readers_take_any_json_in_any_field(events):
    """Summary, exports, dashboard, inbox and filters: typed, finite, encodable values."""
    conversation = summarise("any", events)
    record = exports.conversation_record(conversation)
    json.dumps(record, allow_nan=False, ensure_ascii=False).encode()  # finite, encodable
    exports.jsonl([conversation]).encode()
    exports.test_stories([("any", events, {})]).encode()
    dashboard([conversation], date(2024, 5, 1))
    group_items(inbox_items([conversation], set()))
    ConversationFilter(text="a", intent="faq", below=0.5, flags=FLAG_NAMES).matches(
        conversation, reviewed=False
    )
    if conversation.contact_request is not None:
        exports.contacts_csv([{"conversation_id": "any", **conversation.contact_request}]).encode()
