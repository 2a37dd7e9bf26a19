"""Conversation-list filters: parsed strictly from a query string, then applied."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from console.summary import Conversation

PAGE_SIZE = 25
FLAG_NAMES = ("fell_back", "declined", "negative", "contact")
T = TypeVar("T")
TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off"}


class FilterError(ValueError):
    """A filter value that cannot be understood; the message says which and why."""


@dataclass(frozen=True)
class ConversationFilter:
    """What the staff member asked to see."""

    date_from: date | None = None
    date_to: date | None = None
    text: str = ""
    intent: str = ""
    below: float | None = None
    flags: tuple[str, ...] = ()
    reviewed: bool | None = None
    page: int = 1

    def matches(self, conversation: Conversation, reviewed: bool) -> bool:
        """True if the conversation passes every filter."""
        day = date.fromisoformat(conversation.day)
        lowest = conversation.lowest_confidence
        questions = conversation.questions
        flags = conversation.flags
        return (
            (self.date_from is None or day >= self.date_from)
            and (self.date_to is None or day <= self.date_to)
            and (not self.text or any(self.text.lower() in m.text.lower() for m in questions))
            and (not self.intent or any(intent_matches(m.intent, self.intent) for m in questions))
            and (self.below is None or (lowest is not None and lowest < self.below))
            and all(flags[name] for name in self.flags)
            and (self.reviewed is None or reviewed == self.reviewed)
        )


def intent_matches(predicted: str | None, wanted: str) -> bool:
    """`faq` matches every faq/<topic>; anything else matches exactly."""
    return predicted is not None and (predicted == wanted or predicted.startswith(wanted + "/"))


def parse_filter(args: Mapping[str, str]) -> ConversationFilter:
    """A filter from query arguments (empty values mean 'not set'); FilterError if bad."""
    values = {name: value.strip() for name, value in args.items() if value.strip()}
    date_from, date_to = (
        parse_with(values, "from", parse_date),
        parse_with(values, "to", parse_date),
    )
    if date_from and date_to and date_from > date_to:
        raise FilterError("'from' must not be after 'to'")
    return ConversationFilter(
        date_from=date_from,
        date_to=date_to,
        text=values.get("q", "")[:200],
        intent=values.get("intent", "")[:255],
        below=parse_with(values, "below", parse_fraction),
        flags=tuple(name for name in FLAG_NAMES if parse_with(values, name, parse_bool)),
        reviewed=parse_with(values, "reviewed", parse_bool),
        page=parse_with(values, "page", parse_page) or 1,
    )


def parse_with(values: Mapping[str, str], name: str, parse: Callable[[str], T]) -> T | None:
    """Parse values[name] if present, naming the argument in the error."""
    if name not in values:
        return None
    try:
        return parse(values[name])
    except ValueError as error:
        raise FilterError(f"'{name}': {error}") from None


def parse_date(value: str) -> date:
    """An ISO date such as 2024-05-31."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"expected an ISO date (YYYY-MM-DD), got {value[:40]!r}") from None


def parse_fraction(value: str) -> float:
    """A number from 0 to 1."""
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not 0.0 <= number <= 1.0:
        raise ValueError(f"expected a number from 0 to 1, got {value[:40]!r}")
    return number


def parse_bool(value: str) -> bool:
    """yes/no in its usual spellings."""
    if value.lower() in TRUE_WORDS | FALSE_WORDS:
        return value.lower() in TRUE_WORDS
    raise ValueError(f"expected yes or no, got {value[:40]!r}")


def parse_page(value: str) -> int:
    """A page number >= 1; absurdly large ones are simply past the end."""
    if not (value.isascii() and value.isdigit()) or int(value[:19]) < 1:
        raise ValueError(f"expected a page number >= 1, got {value[:40]!r}")
    return int(value) if len(value) < 19 else sys.maxsize
