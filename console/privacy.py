"""Deleting conversations: one on request, or all past the retention period."""

from __future__ import annotations

import time

from console.records import delete_records
from console.tables import Database, audit
from console.tracker import ConversationSource

DAY_SECONDS = 86_400


def delete_conversation(source: ConversationSource, db: Database, cid: str, who: str) -> None:
    """Delete a conversation from the tracker store and every console row about it."""
    source.delete(cid)
    with db.session() as session:
        delete_records(session, cid)
        audit(session, who, "delete conversation", cid)


async def apply_retention(
    source: ConversationSource, db: Database, days: int, who: str, now: float | None = None
) -> list[str]:
    """Delete conversations whose last event is older than `days` (0: keep all); their ids."""
    if days <= 0:
        return []
    cutoff = (time.time() if now is None else now) - days * DAY_SECONDS
    expired = [c.id for c in await source.all() if c.last_at < cutoff]
    for cid in expired:
        source.delete(cid)
    with db.session() as session:
        for cid in expired:
            delete_records(session, cid)
        audit(session, who, "retention", f"{len(expired)} conversation(s) older than {days} days")
    return expired
