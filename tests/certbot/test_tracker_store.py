"""The SQL tracker store reports database errors that Rasa's fail-safe wrapper hides."""

from __future__ import annotations

import shutil

import pytest
from rasa.core.tracker_store import FailSafeTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sanic.response import HTTPResponse

from certbot.failures import apply_failure, forget_failure
from certbot.tracker_store import StrictSQLTrackerStore, UnreadConversationError


@pytest.fixture
def folder(tmp_path):
    path = tmp_path / "db"
    path.mkdir()
    return path


@pytest.fixture
def store(folder):
    forget_failure()
    store = StrictSQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(folder / "c.db"))
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
