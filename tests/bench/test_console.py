"""`make bench-console`: recorded conversations replicated into a store, then measured."""

from __future__ import annotations

import asyncio
import json
import time

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bench.console import SPAN_SECONDS, copies, fill, main, recorded_conversations

CONVERSATIONS = {
    "first": [SessionStarted(), ActionExecuted("action_listen"), UserUttered("hello"),
              BotUttered("Hi!"), ActionExecuted("action_listen")],
    "second": [SessionStarted(), UserUttered("who issues iso certificates?"),
               BotUttered("Certification bodies do.")],
}  # fmt: skip


def recorded_store(path):
    """A SQLite store written by Rasa's own SQL tracker store."""
    store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(path))
    for sender, events in CONVERSATIONS.items():
        asyncio.run(store.save(DialogueStateTracker.from_events(sender, events)))
    return path


def test_copies_get_new_ids_and_spread_over_90_days_in_order(tmp_path):
    templates = recorded_conversations(recorded_store(tmp_path / "recorded.db"))
    assert [len(t) for t in templates] == [len(CONVERSATIONS["first"]), 3]
    now = time.time()
    rows = list(copies(templates, 0, 6, 6, now))
    senders = list(dict.fromkeys(row["sender_id"] for row in rows))
    assert len(senders) == 6 and not set(senders) & set(CONVERSATIONS)
    starts = [min(r["timestamp"] for r in rows if r["sender_id"] == s) for s in senders]
    assert starts == sorted(starts)
    assert now - SPAN_SECONDS <= starts[0] and starts[-1] < now
    assert all(json.loads(row["data"])["timestamp"] == row["timestamp"] for row in rows)


def test_filled_copies_read_back_through_rasa_as_the_recorded_ones(tmp_path):
    templates = recorded_conversations(recorded_store(tmp_path / "recorded.db"))
    target = tmp_path / "store.db"
    assert fill(sa.create_engine(f"sqlite:///{target}"), copies(templates, 0, 4, 4, time.time()))
    store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(target))
    senders = list(asyncio.run(store.keys()))
    assert len(senders) == 4

    def said(events):
        return [(type(event).__name__, getattr(event, "text", None)) for event in events]

    recorded = [said(events) for events in CONVERSATIONS.values()]
    copied = [said(asyncio.run(store.retrieve_full_tracker(s)).events) for s in senders]
    assert sorted(copied) == sorted(recorded * 2)


def test_the_console_is_measured_at_each_size(tmp_path, capsys):
    recorded = recorded_store(tmp_path / "recorded.db")
    assert main(["--recorded", str(recorded), "--sizes", "4,8", "--warm", "2"]) == 0
    out = capsys.readouterr().out
    assert "recorded 2 conversations" in out
    header = next(line for line in out.splitlines() if line.startswith("conversations"))
    assert header.split()[1:] == ["4", "8"]
    for row in ("ready after start", "inbox (cold / warm p95)", "export (time, size)"):
        assert any(line.startswith(row) for line in out.splitlines()), row
