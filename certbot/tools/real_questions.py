"""Questions real people asked online, and how the bot treats them (`make eval`).

`tests/nlu/real_questions/{dev,test}.yml` hold questions copied verbatim from public pages
(tests/nlu/real_questions/README.md), each with its source and the outcomes that would be
right for it: an FAQ answer (`faq/<topic>`), `handoff` (the contact offer), `decline`, or a
small-talk intent. The dev half may guide training data; the test half only measures.

A question is scored by what the bot does with it (certbot.tools.evaluate.outcome). A **wrong
answer** is a curated FAQ answer where something else was right: the figure that matters
most, since a visitor cannot tell it from a right one. "Did you mean" is not wrong, only
unhelpful.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REAL_QUESTIONS_DIR = Path("tests/nlu/real_questions")
SETS = ("dev", "test")
# Outcomes that offer a person (certbot.nlu.second_opinion predicts `needs_person`).
HANDOFF_INTENTS = ("ask_quote", "request_human", "needs_person")


@dataclass(frozen=True)
class RealQuestion:
    """A verbatim question, where it was asked and what would be right."""

    text: str
    source: str
    expected: tuple[str, ...]


def load_set(path: Path) -> list[RealQuestion]:
    """The questions of one set file ([] when it does not exist)."""
    if not path.exists():
        return []
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return [
        RealQuestion(str(q["text"]), str(q.get("source", "")), tuple(q["expected"]))
        for q in document.get("questions") or []
    ]


def behaviour(outcome: str) -> str:
    """What a visitor sees for an evaluation outcome, in the sets' labels."""
    if outcome in HANDOFF_INTENTS:
        return "handoff"
    if outcome == "out_of_scope":
        return "decline"
    if outcome == "nlu_fallback":
        return "did_you_mean"
    return outcome


def kind(expected: tuple[str, ...]) -> str:
    """The question's kind: answerable (an FAQ is right), handoff, off-topic or small talk."""
    if any(label.startswith("faq/") for label in expected):
        return "answerable"
    if "handoff" in expected:
        return "handoff"
    if "decline" in expected:
        return "off-topic"
    return "small talk"


def set_report(questions: list[RealQuestion], outcomes: list[str]) -> dict[str, Any]:
    """Per kind of question, how often the bot did right; wrong answers and their texts."""
    right: Counter[str] = Counter()
    total: Counter[str] = Counter()
    seen: Counter[str] = Counter()
    wrong = []
    for question, outcome in zip(questions, outcomes, strict=True):
        did = behaviour(outcome)
        group = kind(question.expected)
        total[group] += 1
        seen[did if not did.startswith("faq/") else "curated answer"] += 1
        if did in question.expected:
            right[group] += 1
        elif did.startswith("faq/"):
            wrong.append({"text": question.text, "expected": list(question.expected), "bot": did})
    return {
        "questions": len(questions),
        "right": {group: right[group] / n for group, n in sorted(total.items())},
        "counts": {group: n for group, n in sorted(total.items())},
        "outcomes": dict(sorted(seen.items())),
        "wrong_answer_rate": len(wrong) / len(questions) if questions else 0.0,
        "wrong_answers": wrong,
    }


def print_set(name: str, report: dict[str, Any]) -> None:
    """One set's figures on stdout."""
    print(f"\nreal questions, {name} half: {report['questions']} questions")
    for group, share in report["right"].items():
        print(f"  {group:12} right {share:6.1%}  (of {report['counts'][group]})")
    for outcome, n in report["outcomes"].items():
        print(f"  bot: {outcome:20} {n:4}")
    print(f"  wrong answers: {report['wrong_answer_rate']:.1%} of all")
