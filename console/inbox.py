"""The "needs review" inbox: doubtful visitor messages, near-identical ones grouped.

A message is doubtful when the bot fell back, declined or was unsure, when it was rated
down, and when an answer given with confidence was probably wrong: a wrong curated answer
looks like a right one in the bot's own figures, but the sentence encoder may have
preferred another answer, and what the visitor does right after it tells (they rephrase or
repeat the question, say it is not what they asked, or ask for a person). A small fixed
sample of the other answers comes too, marked as a spot check.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import pairwise

from console.summary import Conversation, VisitorMessage

LOW_CONFIDENCE = 0.7
PUNCTUATION = re.compile(r"[^\w\s]|_")
SPACES = re.compile(r"\s+")
REPHRASED = "rephrased after the answer"
NOT_WHAT_I_ASKED = "said it was not what they asked"
PERSON_AFTER = "asked for a person after the answer"
SPOT_CHECK = "spot check (a sample of answers)"
ENCODER_PREFERRED = "the sentence encoder preferred another answer"
# One answer in SAMPLE_ONE_IN with no other reason is sampled (the same ones on every view).
SAMPLE_ONE_IN = 50
# Two questions are one rephrased when this share of their words (of the longer) is shared.
SAME_WORDS = 0.5
PERSON_INTENTS = {"request_human"}
OBJECTION = re.compile(
    r"\b(not what i (asked|meant|wanted|need(ed)?)|that( ?s| is) not (it|right|what i)"
    r"|(doesn ?t|does not|didn ?t|did not) (answer|help)|wrong answer|not my question"
    r"|you misunderstood|not helpful|that ?s wrong)\b"
)


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


def grouping_key(text: str) -> str:
    """Lower case, no punctuation, single spaces: the grouping key."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return SPACES.sub(" ", PUNCTUATION.sub(" ", text)).strip()


def answered(message: VisitorMessage) -> bool:
    """A question the bot gave a curated answer to."""
    return (
        message.counts
        and not message.fell_back
        and not message.declined
        and (message.intent or "").startswith("faq/")
    )


def rephrases(first: VisitorMessage, second: VisitorMessage) -> bool:
    """The second question asks the first again: the same answer, or mostly the same words."""
    if not second.counts:
        return False
    if second.intent == first.intent:
        return True
    words, again = set(grouping_key(first.text).split()), set(grouping_key(second.text).split())
    return bool(words and again) and len(words & again) >= SAME_WORDS * max(len(words), len(again))


def doubts(conversation: Conversation) -> dict[int, str]:
    """Answered questions (by event index) whose next visitor message doubts the answer."""
    found: dict[int, str] = {}
    messages = [m for m in conversation.messages if not m.in_form]
    for first, second in pairwise(messages):
        if not answered(first):
            continue
        if second.intent in PERSON_INTENTS:
            found[first.index] = PERSON_AFTER
        elif second.intent == "deny" or OBJECTION.search(grouping_key(second.text)):
            found[first.index] = NOT_WHAT_I_ASKED
        elif rephrases(first, second):
            found[first.index] = REPHRASED
    return found


def sampled(conversation_id: str, index: int) -> bool:
    """Whether this answer is in the spot-check sample (stable across views and restarts)."""
    digest = hashlib.sha256(f"{conversation_id}:{index}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % SAMPLE_ONE_IN == 0


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
    if message.encoder_preferred:
        reasons.append(ENCODER_PREFERRED)
    return tuple(reasons)


def inbox_items(
    conversations: Iterable[Conversation], annotated: set[tuple[str, int]]
) -> list[InboxItem]:
    """Messages that need review and have no standing annotation, newest first."""
    items = []
    for conversation in conversations:
        doubted = doubts(conversation)
        for message in conversation.questions:
            if (conversation.id, message.index) in annotated:
                continue
            reasons = reasons_for(message, message.index in conversation.negative_for)
            if message.index in doubted:
                reasons += (doubted[message.index],)
            if not reasons and answered(message) and sampled(conversation.id, message.index):
                reasons = (SPOT_CHECK,)
            if reasons:
                items.append(InboxItem(conversation.id, message, reasons))
    return sorted(items, key=lambda item: item.message.timestamp or 0.0, reverse=True)


def group_items(items: Iterable[InboxItem]) -> list[InboxGroup]:
    """Group items by normalised text, keeping newest-first order."""
    groups: dict[str, InboxGroup] = {}
    for item in items:
        key = grouping_key(item.message.text) or item.message.text
        groups.setdefault(key, InboxGroup(key)).items.append(item)
    return list(groups.values())
