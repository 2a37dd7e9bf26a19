"""The intents staff can assign, each with the bot's answer, from domain.yml."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rasa.shared.core.constants import DEFAULT_INTENTS
from rasa.shared.core.domain import Domain

# Ratings come from the widget's buttons, never from typed text: not assignable.
NOT_ASSIGNABLE = {"feedback"}


@dataclass(frozen=True)
class IntentChoice:
    """An assignable intent and the answer the bot gives to it ('' if none)."""

    name: str
    answer: str


def load_catalogue(domain_path: Path) -> list[IntentChoice]:
    """Every intent of the domain, retrieval intents expanded to their FAQs."""
    domain = Domain.load(str(domain_path))
    responses = domain.responses
    internal = set(DEFAULT_INTENTS) - set(domain.overridden_default_intents) | NOT_ASSIGNABLE
    choices = []
    for intent in domain.intents:
        if intent in internal:
            continue
        topics = sorted(name for name in responses if name.startswith(f"utter_{intent}/"))
        if topics:
            choices += [
                IntentChoice(t.removeprefix("utter_"), first_text(responses[t])) for t in topics
            ]
        else:
            choices.append(IntentChoice(intent, first_text(responses.get(f"utter_{intent}", []))))
    return choices


def first_text(variants: list[dict]) -> str:
    """The text of a response's first variant."""
    return next((v["text"] for v in variants if v.get("text")), "")
