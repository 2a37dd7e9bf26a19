"""Consistency of the answers, their buttons and the training data."""

import re
from pathlib import Path

import pytest
import yaml
from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

from actions.questions import FAQ_QUESTIONS, INTENT_SUGGESTIONS

ROOT = Path(__file__).resolve().parents[1]
DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text())
RESPONSES = DOMAIN["responses"]


def training_examples() -> dict[str, set[str]]:
    """Lower-cased training texts by (full retrieval) intent, read the way Rasa reads them."""
    examples: dict[str, set[str]] = {}
    for path in (ROOT / "data" / "nlu").glob("*.yml"):
        for message in RasaYAMLReader().read(path).training_examples:
            intent = message.get("intent_response_key") or message.get("intent")
            examples.setdefault(intent, set()).add(message.get("text").lower())
    return examples


def test_every_faq_answer_has_a_canonical_question_and_back():
    answers = {name[len("utter_") :] for name in RESPONSES if name.startswith("utter_faq/")}
    assert answers == set(FAQ_QUESTIONS)


@pytest.mark.parametrize(("key", "question"), FAQ_QUESTIONS.items())
def test_canonical_questions_are_trained_for_their_answer(key, question):
    assert question.lower() in training_examples()[key]


def test_buttons_send_canonical_questions_or_intents():
    allowed = set(FAQ_QUESTIONS.values()) | {p for _, p in INTENT_SUGGESTIONS.values()}
    for name, variants in RESPONSES.items():
        for variant in variants:
            for button in variant.get("buttons", []):
                payload = button["payload"]
                assert payload.startswith("/") or payload in allowed, (name, payload)
                if payload.startswith("/"):
                    assert payload[1:] in DOMAIN["intents"], (name, payload)


@pytest.mark.parametrize("name", sorted(RESPONSES))
def test_answers_are_short(name):
    for variant in RESPONSES[name]:
        assert len(variant["text"].split()) <= 85, name


@pytest.mark.parametrize("name", sorted(RESPONSES))
def test_templates_only_use_known_slots(name):
    for variant in RESPONSES[name]:
        for slot in re.findall(r"{(\w+)}", variant["text"]):
            assert slot in DOMAIN["slots"], (name, slot)


def test_no_invented_contact_details_or_prices():
    text = " ".join(v["text"] for variants in RESPONSES.values() for v in variants)
    assert not re.search(r"[$€£]\s?\d|\+?\d[\d\s-]{7,}\d|@(?!example\.com)\w+\.\w+", text)
