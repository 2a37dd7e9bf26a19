"""What a conversation's tracker events say, summarised for staff.

Every field is read through `console.coerce`: events hold what visitors sent, of any shape.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from console import coerce

FALLBACK_INTENT = "nlu_fallback"
# Replies of a bot without an answer: "did you mean", the default, the offer of a person
# for a certification question it has no curated answer for.
FALLBACK_ACTIONS = {"action_did_you_mean", "action_default_fallback", "utter_needs_person"}
DECLINE_ACTION = "utter_out_of_scope"
CONTACT_SLOT = "contact_request"
# Rasa's command that opens a session (the widget sends "/session_start" to be greeted): not
# something the visitor said, so not a turn of the transcript.
SESSION_START_INTENT = "session_start"
RUNNER_UPS = 3
CONTACT_TEXTS = ("name", "email", "question", "submitted_at")
ContactRequest = dict[str, str | bool]


@dataclass
class VisitorMessage:
    """One visitor message with what the bot understood of it."""

    index: int
    timestamp: float | None
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
    # The sentence encoder's likeliest answer where the bot gave another one it kept
    # (certbot/nlu/second_opinion.py): a sign of a confident mistake.
    encoder_preferred: str | None = None
    kind: str = "visitor"

    @property
    def counts(self) -> bool:
        """Typed by the visitor as a question (not a button command, not a form answer)."""
        return not self.command and not self.in_form


@dataclass
class BotReply:
    """One bot message."""

    index: int
    timestamp: float | None
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
    contact_request: ContactRequest | None = None
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


def summarise(conversation_id: str, events: Sequence[Mapping[str, Any]]) -> Conversation:
    """Summarise a conversation from its events (as Rasa serialises them)."""
    events = [coerce.mapping(event) for event in events]
    stamps = (coerce.timestamp(event.get("timestamp")) for event in events)
    times = [stamp for stamp in stamps if stamp is not None] or [0.0]
    summary = Conversation(conversation_id, min(times), max(times), [])
    last_message: VisitorMessage | None = None
    in_form = False
    for index, event in enumerate(events):
        kind = event.get("event")
        if kind == "user" and opens_session(event):
            last_message = None
        elif kind == "user":
            last_message = visitor_message(index, event, in_form)
            summary.turns.append(last_message)
        elif kind == "bot":
            summary.turns.append(bot_reply(index, event))
        elif kind == "action" and last_message is not None:
            note_action(last_message, coerce.name(event.get("name")))
        elif kind == "active_loop":
            in_form = coerce.name(event.get("name")) is not None
        elif kind == "slot" and event.get("name") == CONTACT_SLOT:
            summary.contact_request = contact_request(event.get("value")) or summary.contact_request
    summary.negative_for = rated_questions(summary)
    return summary


def opens_session(event: Mapping[str, Any]) -> bool:
    """True for a `user` event that is the command opening a session ("/session_start")."""
    intent = coerce.mapping(coerce.mapping(event.get("parse_data")).get("intent"))
    command = coerce.text(event.get("text")).startswith("/")
    return command and coerce.name(intent.get("name")) == SESSION_START_INTENT


def visitor_message(index: int, event: Mapping[str, Any], in_form: bool) -> VisitorMessage:
    """A visitor message from a `user` event."""
    text = coerce.text(event.get("text"))
    parse = coerce.mapping(event.get("parse_data"))
    intent = coerce.mapping(parse.get("intent"))
    predicted = coerce.name(intent.get("name"))
    name = full_intent(parse)
    entities = [
        (entity, coerce.scalar_text(found.get("value")))
        for found in map(coerce.mapping, coerce.items(parse.get("entities")))
        if (entity := coerce.text(found.get("entity"))) and found.get("value") is not None
    ]
    rating = (dict(entities).get("rating") or None) if predicted == "feedback" else None
    opinion = coerce.mapping(parse.get("second_opinion"))
    likeliest = [coerce.name(label) for label in coerce.items(opinion.get("likeliest"))]
    preferred = likeliest[0] if likeliest else None
    kept = name != FALLBACK_INTENT and coerce.name(opinion.get("answer")) == name
    feedback_for = coerce.mapping(event.get("metadata")).get("feedback_for")
    return VisitorMessage(
        index=index,
        timestamp=coerce.timestamp(event.get("timestamp")),
        text=text,
        intent=name,
        confidence=coerce.fraction(intent.get("confidence")),
        runner_ups=runner_ups(parse, predicted),
        entities=entities,
        command=text.startswith("/"),
        in_form=in_form,
        fell_back=name == FALLBACK_INTENT,
        rating=rating,
        feedback_for=coerce.name(feedback_for) if rating else None,
        encoder_preferred=preferred if kept and preferred != name else None,
    )


def runner_ups(parse: Mapping[str, Any], predicted: str | None) -> list[tuple[str, float]]:
    """The next intents of the ranking with their confidences (RUNNER_UPS at most)."""
    ranking = []
    for entry in map(coerce.mapping, coerce.items(parse.get("intent_ranking"))):
        name, score = coerce.name(entry.get("name")), coerce.fraction(entry.get("confidence"))
        if name is not None and score is not None and name != predicted:
            ranking.append((name, score))
    return ranking[:RUNNER_UPS]


def full_intent(parse_data: object) -> str | None:
    """The predicted intent, with the retrieval sub-intent for e.g. faq/who_certifies."""
    parse = coerce.mapping(parse_data)
    intent = coerce.mapping(parse.get("intent"))
    name = coerce.name(intent.get("name"))
    full = coerce.name(intent.get("full_retrieval_intent_name"))
    if full is not None or name is None:
        return full or name
    selector = coerce.mapping(coerce.mapping(parse.get("response_selector")).get(name))
    selected = coerce.mapping(selector.get("response"))
    return coerce.name(selected.get("intent_response_key")) or name


def bot_reply(index: int, event: Mapping[str, Any]) -> BotReply:
    """A bot reply from a `bot` event."""
    buttons = coerce.items(coerce.mapping(event.get("data")).get("buttons"))
    titles = (coerce.text(coerce.mapping(button).get("title")) for button in buttons)
    return BotReply(
        index=index,
        timestamp=coerce.timestamp(event.get("timestamp")),
        text=coerce.text(event.get("text")),
        buttons=[title for title in titles if title],
        response=coerce.name(coerce.mapping(event.get("metadata")).get("utter_action")),
    )


def contact_request(value: object) -> ContactRequest | None:
    """The completed contact form stored in the `contact_request` slot (None if no object)."""
    form = coerce.mapping(value)
    if not form:
        return None
    texts: ContactRequest = {key: coerce.text(form.get(key)) for key in CONTACT_TEXTS}
    return {**texts, "consent": form.get("consent") is True}


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
