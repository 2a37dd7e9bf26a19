"""Conversations from the bot's tracker store, built by Rasa from endpoints.yml.

Summaries are cached in memory, keyed by conversation id and event count. With an SQL
store one aggregate query tells which conversations changed, so a listing re-reads only
those; other stores re-read every tracker per listing. Either way every summary is held
in memory: fine for tens of thousands of conversations, not for millions (then summaries
would belong in the console database, updated from an event broker).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, TrackerStore
from rasa.shared.core.domain import Domain
from rasa.utils.endpoints import read_endpoint_config

from console.summary import Conversation, summarise


class DeleteNotSupported(Exception):
    """The tracker store offers no way to delete a conversation."""


class ConversationSource:
    """Reads, summarises and deletes the conversations of one tracker store."""

    def __init__(self, store: TrackerStore) -> None:
        self.store = store
        self._cache: dict[str, tuple[int, Conversation]] = {}

    @classmethod
    def from_files(cls, endpoints: Path, domain: Path) -> ConversationSource:
        """The tracker store configured in `endpoints` (key tracker_store)."""
        config = read_endpoint_config(str(endpoints), "tracker_store")
        return cls(TrackerStore.create(config, Domain.load(str(domain))))

    async def all(self) -> list[Conversation]:
        """Every conversation, newest (last event) first."""
        counts = self._event_counts()
        conversations = []
        for conversation_id in await self.store.keys():
            summary = await self._summary(conversation_id, counts.get(conversation_id))
            if summary is not None:
                conversations.append(summary)
        return sorted(conversations, key=lambda c: c.last_at, reverse=True)

    async def newest_first(self) -> list[str]:
        """Every conversation id, newest (last event) first, without reading their events.

        One query with an SQL store; other stores read every tracker (as `all` does).
        """
        if not isinstance(self.store, SQLTrackerStore):
            return [conversation.id for conversation in await self.all()]
        event = SQLTrackerStore.SQLEvent
        last = sa.func.max(event.timestamp)
        with self.store.session_scope() as session:
            rows = session.query(event.sender_id).group_by(event.sender_id)
            return [sender for (sender,) in rows.order_by(last.desc(), event.sender_id)]

    async def read(self, conversation_id: str) -> Conversation | None:
        """One conversation summarised from the store, leaving the summary cache as it is."""
        events = await self.events(conversation_id)
        return summarise(conversation_id, events) if events else None

    async def get(self, conversation_id: str) -> Conversation | None:
        """One conversation, or None if the store has no events for it."""
        return await self._summary(conversation_id, None)

    async def _summary(self, conversation_id: str, count: int | None) -> Conversation | None:
        cached = self._cache.get(conversation_id)
        if cached is not None and count is not None and cached[0] == count:
            return cached[1]
        events = await self.events(conversation_id)
        if not events:
            self._cache.pop(conversation_id, None)
            return None
        if cached is not None and cached[0] == len(events):
            return cached[1]
        summary = summarise(conversation_id, events)
        self._cache[conversation_id] = (len(events), summary)
        return summary

    async def events(self, conversation_id: str) -> list[dict[str, Any]]:
        """Every event of the conversation, as Rasa serialises them ([] if unknown)."""
        tracker = await self.store.retrieve_full_tracker(conversation_id)
        return [event.as_dict() for event in tracker.events] if tracker else []

    def _event_counts(self) -> dict[str, int]:
        """Event count per conversation, from one query (SQL stores only)."""
        if not isinstance(self.store, SQLTrackerStore):
            return {}
        event = SQLTrackerStore.SQLEvent
        with self.store.session_scope() as session:
            rows = session.query(event.sender_id, sa.func.count(event.id)).group_by(event.sender_id)
            return dict(rows.all())

    def delete(self, conversation_id: str) -> None:
        """Delete every event of the conversation from the tracker store."""
        if not isinstance(self.store, SQLTrackerStore):
            raise DeleteNotSupported(type(self.store).__name__)
        event = SQLTrackerStore.SQLEvent
        with self.store.session_scope() as session:
            session.query(event).filter(event.sender_id == conversation_id).delete()
            session.commit()
        self._cache.pop(conversation_id, None)
