"""The "needs review" inbox: doubtful visitor messages, near-identical ones grouped."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from console.summary import Conversation, VisitorMessage

LOW_CONFIDENCE = 0.7
PUNCTUATION = re.compile(r"[^\w\s]|_")
SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class InboxItem:
    """A visitor message that needs a look, and why."""

    conversation_id: str
    message: VisitorMessage
    reasons: tuple[str, ...]

    @property
    def key(self) -> tuple[str, int]:
        """Identifies the message: conversation id and event index."""
        return (self.conversation_id, self.message.index)


@dataclass
class InboxGroup:
    """Messages whose texts differ only in case, punctuation or spacing."""

    key: str
    items: list[InboxItem] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The newest message's text, as typed."""
        return self.items[0].message.text

    @property
    def reasons(self) -> list[str]:
        """Every reason any message of the group is here."""
        return sorted({reason for item in self.items for reason in item.reasons})

    @property
    def intents(self) -> list[str]:
        """The intents predicted for the group's messages."""
        return sorted({item.message.intent or "" for item in self.items})


def normalise(text: str) -> str:
    """Lower case, no punctuation, single spaces: the grouping key."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return SPACES.sub(" ", PUNCTUATION.sub(" ", text)).strip()


def reasons_for(message: VisitorMessage, rated_down: bool) -> tuple[str, ...]:
    """Why a message needs review (empty if it does not)."""
    reasons = []
    if message.fell_back:
        reasons.append("fell back")
    elif message.confidence is not None and message.confidence < LOW_CONFIDENCE:
        reasons.append("low confidence")
    if message.declined:
        reasons.append("declined")
    if rated_down:
        reasons.append("thumbs down")
    return tuple(reasons)


def inbox_items(
    conversations: Iterable[Conversation], annotated: set[tuple[str, int]]
) -> list[InboxItem]:
    """Messages that need review and have no standing annotation, newest first."""
    items = []
    for conversation in conversations:
        for message in conversation.questions:
            if (conversation.id, message.index) in annotated:
                continue
            reasons = reasons_for(message, message.index in conversation.negative_for)
            if reasons:
                items.append(InboxItem(conversation.id, message, reasons))
    return sorted(items, key=lambda item: item.message.timestamp or 0.0, reverse=True)


def group_items(items: Iterable[InboxItem]) -> list[InboxGroup]:
    """Group items by normalised text, keeping newest-first order."""
    groups: dict[str, InboxGroup] = {}
    for item in items:
        key = normalise(item.message.text) or item.message.text
        groups.setdefault(key, InboxGroup(key)).items.append(item)
    return list(groups.values())
