"""Dashboard figures computed from conversation summaries."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from console.inbox import answered, doubts
from console.summary import Conversation

DAYS = 30
TOP_INTENTS = 10
BINS = 10


def dashboard(conversations: Iterable[Conversation], today: date) -> dict[str, Any]:
    """Conversations per day, outcome shares, top intents and a confidence histogram."""
    conversations = list(conversations)
    questions = [m for c in conversations for m in c.questions]
    return {
        "conversations": len(conversations),
        "questions": len(questions),
        "per_day": per_day(conversations, today),
        "outcomes": outcomes(questions),
        "answered_then_doubted": doubted_answers(conversations, len(questions)),
        "top_intents": Counter(m.intent or "?" for m in questions).most_common(TOP_INTENTS),
        "confidence": histogram(m.confidence for m in questions if m.confidence is not None),
    }


def per_day(conversations: list[Conversation], today: date) -> list[tuple[str, int]]:
    """Conversations started on each of the last DAYS days, oldest first."""
    counts = Counter(c.day for c in conversations)
    days = [(today - timedelta(days=n)).isoformat() for n in range(DAYS - 1, -1, -1)]
    return [(day, counts.get(day, 0)) for day in days]


def outcomes(questions: list) -> list[tuple[str, int, float]]:
    """(outcome, count, share) for answered, declined and fell back."""
    counts = Counter(
        "fell back" if m.fell_back else "declined" if m.declined else "answered" for m in questions
    )
    total = max(len(questions), 1)
    return [
        (name, counts[name], counts[name] / total) for name in ("answered", "declined", "fell back")
    ]


def doubted_answers(conversations: list[Conversation], questions: int) -> tuple[int, float]:
    """(count, share of all questions) of answers likely wrong although the bot was sure.

    The visitor then rephrased the question, contested the answer, asked for a person or
    rated it down.
    """
    count = 0
    for conversation in conversations:
        doubted = set(doubts(conversation)) | set(conversation.negative_for)
        count += sum(1 for m in conversation.questions if answered(m) and m.index in doubted)
    return count, count / max(questions, 1)


def histogram(scores: Iterable[float]) -> list[tuple[str, int]]:
    """Counts of confidences in BINS equal bins from 0 to 1."""
    counts = [0] * BINS
    for score in scores:
        counts[min(int(score * BINS), BINS - 1)] += 1
    return [(f"{n / BINS:.1f}–{(n + 1) / BINS:.1f}", count) for n, count in enumerate(counts)]
