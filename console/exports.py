"""Downloads: conversations as JSON lines, reviewed ones as Rasa test stories, contacts as CSV."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import asdict
from typing import Any

import yaml

from console import coerce
from console.summary import Conversation, full_intent

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
SKIPPED_ACTIONS = {"action_listen", "action_session_start"}
CONTACT_COLUMNS = (
    "conversation_id",
    "name",
    "email",
    "question",
    "consent",
    "submitted_at",
    "status",
    "closed_by",
    "closed_at",
)


def conversation_record(conversation: Conversation) -> dict[str, Any]:
    """A conversation's summary as plain JSON-ready data."""
    return {
        "id": conversation.id,
        "first_event": conversation.first_at,
        "last_event": conversation.last_at,
        "visitor_messages": len(conversation.questions),
        "first_question": conversation.first_question,
        "lowest_confidence": conversation.lowest_confidence,
        "flags": conversation.flags,
        "contact_request": conversation.contact_request,
        "turns": [asdict(turn) for turn in conversation.turns],
    }


def jsonl(conversations: Iterable[Conversation]) -> str:
    """One JSON object per line, one line per conversation."""
    return "".join(json.dumps(conversation_record(c)) + "\n" for c in conversations)


def story_steps(events: list[dict[str, Any]], intents: dict[int, str]) -> list[dict[str, Any]]:
    """Test-story steps: each visitor message with its (corrected) intent, each bot action."""
    steps: list[dict[str, Any]] = []
    for index, event in enumerate(map(coerce.mapping, events)):
        kind, name = event.get("event"), coerce.name(event.get("name"))
        if kind == "user":
            intent = intents.get(index) or full_intent(event.get("parse_data"))
            steps.append(
                {"user": coerce.text(event.get("text")), "intent": intent or "nlu_fallback"}
            )
        elif kind == "action" and name is not None and name not in SKIPPED_ACTIONS:
            steps.append({"action": name})
        elif kind == "active_loop":
            steps.append({"active_loop": name})
    return steps


def test_stories(stories: Iterable[tuple[str, list[dict[str, Any]], dict[int, str]]]) -> str:
    """YAML test stories from (conversation id, events, corrected intents by event index)."""
    document = {
        "version": "3.1",
        "stories": [
            {"story": f"reviewed conversation {cid}", "steps": story_steps(events, intents)}
            for cid, events, intents in stories
        ],
    }
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)


def safe_cell(value: object) -> str:
    """A CSV cell a spreadsheet will not run as a formula (and without NUL, which csv refuses)."""
    text = "" if value is None else coerce.text(str(value))
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def contacts_csv(rows: Iterable[dict[str, Any]]) -> str:
    """Contact requests as CSV, one row per request."""
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow(CONTACT_COLUMNS)
    for row in rows:
        writer.writerow([safe_cell(row.get(column)) for column in CONTACT_COLUMNS])
    return out.getvalue()
