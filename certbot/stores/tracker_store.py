"""Rasa's SQL tracker store, reporting database errors and keeping active conversations.

Errors: Rasa wraps every tracker store in `FailSafeTrackerStore`: when the database cannot
be read it starts the visitor afresh (a new greeting, the form forgotten), when it cannot be
written it keeps the conversation in memory, and the visitor gets a 200 answer either way.
This store notes every database error for the channel (certbot.channels.failures), which then
answers 503 so that the client sends the message again; and once a conversation could not
be read it refuses to save the stand-in started for the same message, so that the stored
one is never overwritten with it. It raises database errors again as `TrackerStoreFailure`,
without their message, which Rasa would log with the visitor's text in it.

Speed: Rasa's SQL store reads every event of the conversation and replays them into a new
tracker for each message, and before saving counts the stored events to find the new ones:
about a third of the bot's CPU per message (docs/performance.md). This store keeps the last
`cache_size` conversations it read or wrote. Reading one runs a single query, the
conversation's row count and highest row id, and uses the kept tracker only when that stamp
is the one the store itself left and the tracker has no unsaved events; any other change
(another bot instance, the console deleting the conversation, a failed message) makes it
read the events as Rasa does. Saving inserts the events added since. Bot instances must
share a lock store (docs/deploy.md) so that two never handle one conversation at once, as
with Rasa's store. Database work runs on the event loop, as in Rasa's store.

Configured in the endpoints file in place of `type: SQL` (same settings, plus `cache_size`):

    tracker_store:
      type: certbot.stores.tracker_store.CachedSQLTrackerStore
      dialect: sqlite
      db: var/conversations.db
"""

from __future__ import annotations

import itertools
import json
import logging
import sqlite3
from collections import OrderedDict
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from sqlalchemy.engine import Connection
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import SingletonThreadPool

from certbot.channels.failures import failure_summary, note_failure

# Conversations a bot instance keeps in memory by default.
DEFAULT_CACHE_SIZE = 200

logger = logging.getLogger(__name__)
# The conversation whose stored state could not be read in this request, if any.
_unread: ContextVar[str | None] = ContextVar("certbot_unread_conversation", default=None)

Stamp = tuple[int, int | None]  # a conversation's (row count, highest row id)


class TrackerStoreFailure(RuntimeError):
    """A database error, told by its type and place only: its message can quote visitors.

    Rasa logs tracker store errors with their message, and a database error's message
    lists the values of the failed statement (what the visitor wrote, an email address).
    """


def stored_failure(error: Exception, doing: str) -> TrackerStoreFailure:
    """Note `error` for the channel and log it without its message; the error to raise."""
    note_failure(error)
    summary = failure_summary(error)
    logger.error("The tracker store failed %s: %s", doing, summary)
    return TrackerStoreFailure(summary)


class UnreadConversationError(RuntimeError):
    """Refusal to save a conversation whose stored state could not be read."""


@dataclass
class _Kept:
    """A conversation kept in memory, and the database state it was read or written at."""

    tracker: DialogueStateTracker
    saved: int  # how many of the tracker's events are in the database
    stamp: Stamp

    def is_current(self, stamp: Stamp) -> bool:
        """True if the database and the tracker are both as this store left them."""
        return self.stamp == stamp and len(self.tracker.events) == self.saved


class CachedSQLTrackerStore(SQLTrackerStore):
    """`SQLTrackerStore` that reports its errors and keeps active conversations (see above)."""

    def __init__(self, *args: Any, cache_size: int = DEFAULT_CACHE_SIZE, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cache_size = int(cache_size)
        self._kept: OrderedDict[str, _Kept] = OrderedDict()
        events = self.SQLEvent.__table__
        self._insert_events = events.insert()
        self._stamp_query = sa.select(sa.func.count(events.c.id), sa.func.max(events.c.id)).where(
            events.c.sender_id == sa.bindparam("sender_id")
        )
        if self.engine.dialect.name == "sqlite":
            # Keep the connection open (Rasa's engine opens one per query), in WAL mode.
            self.engine: sa.engine.Engine = sa.create_engine(
                self.engine.url, poolclass=SingletonThreadPool
            )
            sa.event.listen(self.engine, "connect", write_ahead)
            self.sessionmaker = sessionmaker(bind=self.engine)

    def _keep(self, sender_id: str, entry: _Kept) -> None:
        if not self.cache_size:
            return
        self._kept[sender_id] = entry
        self._kept.move_to_end(sender_id)
        while len(self._kept) > self.cache_size:
            self._kept.popitem(last=False)

    def _stamp(self, connection: Connection, sender_id: str) -> Stamp:
        rows, last = connection.execute(self._stamp_query, {"sender_id": sender_id}).one()
        return int(rows), last

    def _read(self, sender_id: str, kept: _Kept | None) -> _Kept | None:
        """The kept conversation if current, else the latest session read as Rasa does."""
        with self.engine.connect() as connection:
            stamp = self._stamp(connection, sender_id)
        if kept is not None and kept.is_current(stamp):
            return kept
        if not stamp[0] or not self.domain:
            return None
        with self.session_scope() as session:
            query = self._event_query(session, sender_id, fetch_events_from_all_sessions=False)
            events = [json.loads(row.data) for row in query.all()]
        tracker = DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        return _Kept(tracker, len(tracker.events), stamp)

    def _stored(self, sender_id: str) -> int:
        """How many events of the conversation's latest session are stored (Rasa's count)."""
        with self.engine.connect() as connection:
            if not self._stamp(connection, sender_id)[0]:
                return 0
        with self.session_scope() as session:
            return self._event_query(session, sender_id, False).count()

    def _write(self, tracker: DialogueStateTracker, saved: int | None) -> tuple[list[Event], Stamp]:
        """Insert the tracker's events from index `saved` on; the ones inserted, the new stamp.

        `saved` None: the events not yet stored, counted as Rasa's store counts them.
        """
        if saved is None:
            saved = self._stored(tracker.sender_id)
        new_events = list(itertools.islice(tracker.events, saved, None))
        with self.engine.begin() as connection:
            if new_events:
                rows = [event_row(tracker.sender_id, event) for event in new_events]
                connection.execute(self._insert_events, rows)
            stamp = self._stamp(connection, tracker.sender_id)
        return new_events, stamp

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        """The conversation's current session, noting any database error."""
        kept = self._kept.pop(sender_id, None)
        try:
            entry = self._read(sender_id, kept)
        except Exception as error:
            _unread.set(sender_id)
            raise stored_failure(error, "reading a conversation") from None
        if _unread.get() == sender_id:
            _unread.set(None)
        if entry is None:
            return None
        self._keep(sender_id, entry)
        return entry.tracker

    async def retrieve_full_tracker(self, sender_id: str) -> DialogueStateTracker | None:
        """The whole conversation, noting any database error."""
        try:
            return await super().retrieve_full_tracker(sender_id)
        except Exception as error:
            raise stored_failure(error, "reading a whole conversation") from None

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the new events, noting any database error; never a stand-in conversation."""
        sender_id = tracker.sender_id
        if _unread.get() == sender_id:
            raise UnreadConversationError(f"conversation {sender_id} was not read")
        kept = self._kept.pop(sender_id, None)
        # The kept entry if it holds this very tracker (how many of its events are saved).
        known = kept if kept is not None and kept.tracker is tracker else None
        try:
            new_events, stamp = self._write(tracker, known.saved if known is not None else None)
        except Exception as error:
            raise stored_failure(error, "saving a conversation") from None
        if self.event_broker is not None:
            await self._stream_new_events(self.event_broker, new_events, sender_id)
        # Kept unless someone else changed the conversation meanwhile (the console deleting it).
        if known is None or stamp[0] == known.stamp[0] + len(new_events):
            self._keep(sender_id, _Kept(tracker, len(tracker.events), stamp))


def write_ahead(connection: sqlite3.Connection, record: object) -> None:
    """SQLite in WAL mode, synced at checkpoints: a commit does not wait for the disk.

    A crashed or killed bot loses nothing and readers (the console) never block the bot;
    a power cut can lose the last commits, never the database's consistency.
    """
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")


def event_row(sender_id: str, event: Event) -> dict[str, Any]:
    """The `events` table row of an event, as Rasa's SQL store writes it."""
    data = event.as_dict()
    return {
        "sender_id": sender_id,
        "type_name": event.type_name,
        "timestamp": data.get("timestamp"),
        "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
        "action_name": data.get("name"),
        "data": json.dumps(data),
    }
