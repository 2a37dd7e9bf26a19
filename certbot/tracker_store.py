"""Rasa's SQL tracker store, with database errors reported instead of hidden.

Rasa wraps every tracker store in `FailSafeTrackerStore`: when the database cannot be read
it starts the visitor afresh (a new greeting, the form forgotten), when it cannot be written
it keeps the conversation in memory, and the visitor gets a 200 answer either way. This
store notes every database error for the channel (certbot.failures), which then answers
503 so that the client sends the message again; and once a conversation could not be read
it refuses to save the stand-in started for the same message, so that the stored one is
never overwritten with it.

Configured in the endpoints file in place of `type: SQL` (same settings):

    tracker_store:
      type: certbot.tracker_store.StrictSQLTrackerStore
      dialect: sqlite
      db: var/conversations.db
"""

from __future__ import annotations

from contextvars import ContextVar

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker

from certbot.failures import note_failure

# The conversation whose stored state could not be read in this request, if any.
_unread: ContextVar[str | None] = ContextVar("certbot_unread_conversation", default=None)


class UnreadConversationError(RuntimeError):
    """Refusal to save a conversation whose stored state could not be read."""


class StrictSQLTrackerStore(SQLTrackerStore):
    """`SQLTrackerStore` that reports its errors (see the module's docstring)."""

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        """The conversation's current session, noting any database error."""
        try:
            tracker = await super().retrieve(sender_id)
        except Exception as error:
            _unread.set(sender_id)
            note_failure(error)
            raise
        if _unread.get() == sender_id:
            _unread.set(None)
        return tracker

    async def retrieve_full_tracker(self, sender_id: str) -> DialogueStateTracker | None:
        """The whole conversation, noting any database error."""
        try:
            return await super().retrieve_full_tracker(sender_id)
        except Exception as error:
            note_failure(error)
            raise

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Save new events, noting any database error; never a stand-in conversation."""
        if _unread.get() == tracker.sender_id:
            raise UnreadConversationError(f"conversation {tracker.sender_id} was not read")
        try:
            await super().save(tracker)
        except Exception as error:
            note_failure(error)
            raise
