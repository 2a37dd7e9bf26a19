"""What a conversation's tracker events say, summarised for staff."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

FALLBACK_INTENT = "nlu_fallback"
FALLBACK_ACTIONS = {"action_did_you_mean", "action_default_fallback"}
DECLINE_ACTION = "utter_out_of_scope"
CONTACT_SLOT = "contact_request"
RUNNER_UPS = 3


@dataclass
class VisitorMessage:
    """One visitor message with what the bot understood of it."""

    index: int
    timestamp: float
    text: str
    intent: str | None
    confidence: float | None
    runner_ups: list[tuple[str, float]]
    entities: list[tuple[str, str]]
    command: bool
    in_form: bool
    fell_back: bool = False
    declined: bool = False
    rating: str | None = None
    feedback_for: str | None = None
    kind: str = "visitor"

    @property
    def counts(self) -> bool:
        """Typed by the visitor as a question (not a button command, not a form answer)."""
        return not self.command and not self.in_form


@dataclass
class BotReply:
    """One bot message."""

    index: int
    timestamp: float
    text: str
    buttons: list[str]
    response: str | None
    kind: str = "bot"


@dataclass
class Conversation:
    """A conversation's summary: transcript, statistics and flags."""

    id: str
    first_at: float
    last_at: float
    turns: list[VisitorMessage | BotReply]
    contact_request: dict[str, Any] | None = None
    negative_for: list[int] = field(default_factory=list)

    @property
    def messages(self) -> list[VisitorMessage]:
        """Every visitor message, commands included."""
        return [turn for turn in self.turns if isinstance(turn, VisitorMessage)]

    @property
    def questions(self) -> list[VisitorMessage]:
        """Visitor messages that count for statistics."""
        return [message for message in self.messages if message.counts]

    @property
    def first_question(self) -> str:
        """The first thing the visitor typed, or ''."""
        questions = self.questions
        return questions[0].text if questions else ""

    @property
    def lowest_confidence(self) -> float | None:
        """The lowest intent confidence among the questions."""
        scores = [m.confidence for m in self.questions if m.confidence is not None]
        return min(scores) if scores else None

    @property
    def flags(self) -> dict[str, bool]:
        """The conversation's flags, for filters and badges."""
        messages = self.messages
        return {
            "fell_back": any(m.fell_back for m in messages),
            "declined": any(m.declined for m in messages),
            "negative": any(m.rating == "down" for m in messages),
            "contact": self.contact_request is not None,
        }

    @property
    def day(self) -> str:
        """ISO date (UTC) of the first event."""
        return iso_day(self.first_at)


def iso_day(timestamp: float) -> str:
    """The UTC date of a Unix timestamp, as YYYY-MM-DD."""
    return datetime.fromtimestamp(timestamp, timezone.utc).date().isoformat()


def summarise(conversation_id: str, events: list[dict[str, Any]]) -> Conversation:
    """Summarise a conversation from its events (as Rasa serialises them)."""
    times = [e["timestamp"] for e in events if e.get("timestamp") is not None] or [0.0]
    summary = Conversation(conversation_id, min(times), max(times), [])
    last_message: VisitorMessage | None = None
    in_form = False
    for index, event in enumerate(events):
        kind = event.get("event")
        if kind == "user":
            last_message = visitor_message(index, event, in_form)
            summary.turns.append(last_message)
        elif kind == "bot":
            summary.turns.append(bot_reply(index, event))
        elif kind == "action" and last_message is not None:
            note_action(last_message, event.get("name"))
        elif kind == "active_loop":
            in_form = bool(event.get("name"))
        elif kind == "slot" and event.get("name") == CONTACT_SLOT and event.get("value"):
            summary.contact_request = dict(event["value"])
    summary.negative_for = rated_questions(summary)
    return summary


def visitor_message(index: int, event: dict[str, Any], in_form: bool) -> VisitorMessage:
    """A visitor message from a `user` event."""
    text = event.get("text") or ""
    parse = event.get("parse_data") or {}
    intent = parse.get("intent") or {}
    name = full_intent(parse)
    ranking = [
        (r.get("name", ""), float(r.get("confidence") or 0.0))
        for r in parse.get("intent_ranking") or []
        if r.get("name") != intent.get("name")
    ]
    entities = [(str(e.get("entity")), str(e.get("value"))) for e in parse.get("entities") or []]
    metadata = event.get("metadata") or {}
    rating = dict(entities).get("rating") if intent.get("name") == "feedback" else None
    return VisitorMessage(
        index=index,
        timestamp=float(event.get("timestamp") or 0.0),
        text=text,
        intent=name,
        confidence=intent.get("confidence"),
        runner_ups=ranking[:RUNNER_UPS],
        entities=entities,
        command=text.startswith("/"),
        in_form=in_form,
        fell_back=name == FALLBACK_INTENT,
        rating=rating,
        feedback_for=metadata.get("feedback_for") if rating else None,
    )


def full_intent(parse: dict[str, Any]) -> str | None:
    """The predicted intent, with the retrieval sub-intent for e.g. faq/who_certifies."""
    intent = parse.get("intent") or {}
    name = intent.get("name")
    if intent.get("full_retrieval_intent_name"):
        return intent["full_retrieval_intent_name"]
    selected = ((parse.get("response_selector") or {}).get(name) or {}).get("response") or {}
    return selected.get("intent_response_key") or name


def bot_reply(index: int, event: dict[str, Any]) -> BotReply:
    """A bot reply from a `bot` event."""
    data = event.get("data") or {}
    return BotReply(
        index=index,
        timestamp=float(event.get("timestamp") or 0.0),
        text=event.get("text") or "",
        buttons=[str(b.get("title", "")) for b in data.get("buttons") or []],
        response=(event.get("metadata") or {}).get("utter_action"),
    )


def note_action(message: VisitorMessage, action: str | None) -> None:
    """Flag the last visitor message by the bot action that answered it."""
    if action in FALLBACK_ACTIONS:
        message.fell_back = True
    elif action == DECLINE_ACTION:
        message.declined = True


def rated_questions(summary: Conversation) -> list[int]:
    """Indexes of the questions answered by the replies rated thumbs-down."""
    rated: list[int] = []
    question: VisitorMessage | None = None
    answered_by: dict[str, int] = {}
    for turn in summary.turns:
        if isinstance(turn, BotReply) and question is not None:
            answered_by[turn.text] = question.index
        elif isinstance(turn, VisitorMessage) and turn.rating == "down":
            target = answered_by.get(turn.feedback_for or "")
            if target is None and question is not None:
                target = question.index
            if target is not None and target not in rated:
                rated.append(target)
        elif isinstance(turn, VisitorMessage) and turn.counts:
            question = turn
    return rated
