"""The SQL tracker store reports database errors that Rasa's fail-safe wrapper hides, and
keeps active conversations in memory without ever serving a stale one."""

from __future__ import annotations

import json
import shutil

import pytest
import sqlalchemy as sa
from rasa.core.tracker_store import FailSafeTrackerStore, SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sanic.response import HTTPResponse

from certbot.channels.failures import apply_failure, forget_failure
from certbot.stores.tracker_store import CachedSQLTrackerStore, UnreadConversationError


@pytest.fixture
def folder(tmp_path):
    path = tmp_path / "db"
    path.mkdir()
    return path


@pytest.fixture
def store(folder):
    forget_failure()
    store = CachedSQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(folder / "c.db"))
    yield store
    forget_failure()


def status_after_failures() -> int:
    response = HTTPResponse(body=b"[]", status=200)
    apply_failure(response)
    return response.status


def said(sender: str, text: str) -> DialogueStateTracker:
    return DialogueStateTracker.from_events(sender, [UserUttered(text)])


async def test_conversations_are_saved_and_read_back(store):
    await store.save(said("v1", "hello"))
    tracker = await store.retrieve("v1")
    assert tracker.latest_message.text == "hello"
    assert status_after_failures() == 200


async def test_an_unreadable_database_is_reported_and_nothing_is_saved_in_its_place(store, folder):
    await store.save(said("v1", "hello"))
    store.engine.dispose()
    shutil.rmtree(folder)
    wrapped = FailSafeTrackerStore(store)
    assert await wrapped.retrieve("v1") is None  # Rasa's wrapper hides the error...
    assert status_after_failures() == 503  # ...but the channel learns of it
    with pytest.raises(UnreadConversationError):
        await store.save(said("v1", "a stand-in conversation"))


def other_instance(store: SQLTrackerStore) -> SQLTrackerStore:
    """Another bot instance on the same database, with Rasa's own store."""
    return SQLTrackerStore(Domain.empty(), dialect="sqlite", db=store.engine.url.database)


def stored_texts(store: SQLTrackerStore, sender: str) -> list[str | None]:
    with store.engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT data FROM events WHERE sender_id = :s ORDER BY id"), {"s": sender}
        )
        return [json.loads(data).get("text") for (data,) in rows]


async def a_turn(store: CachedSQLTrackerStore, sender: str, text: str) -> None:
    """What the bot does with a message: read, add the visitor's text and the reply, save."""
    tracker = await store.get_or_create_tracker(sender)
    tracker.update(UserUttered(text))
    tracker.update(BotUttered(f"re: {text}"))
    tracker.update(ActionExecuted("action_listen"))
    await store.save(tracker)


async def test_a_kept_conversation_is_saved_once_and_read_back_like_rasa_does(store):
    for text in ("one", "two", "three"):
        await a_turn(store, "v1", text)
    assert [t for t in stored_texts(store, "v1") if t] == [
        "one", "re: one", "two", "re: two", "three", "re: three"
    ]  # fmt: skip
    kept = await store.retrieve("v1")
    assert kept is await store.retrieve("v1")  # served from memory
    from_rasa = await other_instance(store).retrieve("v1")
    assert [e.as_dict() for e in from_rasa.events] == [e.as_dict() for e in kept.events]


async def test_events_written_by_another_instance_are_read(store):
    await a_turn(store, "v1", "one")
    await store.retrieve("v1")
    elsewhere = other_instance(store)
    tracker = await elsewhere.retrieve("v1")
    tracker.update(UserUttered("from the other instance"))
    await elsewhere.save(tracker)
    assert (await store.retrieve("v1")).latest_message.text == "from the other instance"
    await a_turn(store, "v1", "two")
    assert [t for t in stored_texts(store, "v1") if t] == [
        "one", "re: one", "from the other instance", "two", "re: two"
    ]  # fmt: skip


async def test_a_deleted_conversation_is_not_served_from_memory(store):
    await a_turn(store, "v1", "private")
    with store.engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM events WHERE sender_id = 'v1'"))
    assert await store.retrieve("v1") is None


async def test_events_of_a_message_that_failed_before_saving_are_forgotten(store):
    await a_turn(store, "v1", "one")
    tracker = await store.retrieve("v1")
    tracker.update(UserUttered("never saved"))  # the message failed: no save
    again = await store.retrieve("v1")
    assert again.latest_message.text == "one"
    assert "never saved" not in [e.as_dict().get("text") for e in again.events]


async def test_only_the_most_recent_conversations_are_kept(folder):
    store = CachedSQLTrackerStore(
        Domain.empty(), dialect="sqlite", db=str(folder / "c.db"), cache_size=2
    )
    for sender in ("a", "b", "c"):
        await a_turn(store, sender, "hi")
    assert list(store._kept) == ["b", "c"]
    assert (await store.retrieve("a")).latest_message.text == "hi"  # read from the database


async def test_without_a_cache_every_read_goes_to_the_database(folder):
    store = CachedSQLTrackerStore(
        Domain.empty(), dialect="sqlite", db=str(folder / "c.db"), cache_size=0
    )
    await a_turn(store, "v1", "one")
    await a_turn(store, "v1", "two")
    assert await store.retrieve("v1") is not await store.retrieve("v1")
    assert [t for t in stored_texts(store, "v1") if t] == ["one", "re: one", "two", "re: two"]


async def test_a_kept_conversation_reports_an_unreadable_database(store, folder):
    await a_turn(store, "v1", "one")
    store.engine.dispose()
    shutil.rmtree(folder)
    assert await FailSafeTrackerStore(store).retrieve("v1") is None
    assert status_after_failures() == 503
    with pytest.raises(UnreadConversationError):
        await store.save(said("v1", "a stand-in conversation"))
