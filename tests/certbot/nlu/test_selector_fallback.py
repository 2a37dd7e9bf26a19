import pytest
from rasa.shared.nlu.training_data.message import Message

from certbot.nlu.selector_fallback import ResponseSelectorFallback


def message(intent: str, answer_confidence: float) -> Message:
    return Message(
        data={
            "text": "certification",
            "intent": {"name": intent, "confidence": 0.99},
            "intent_ranking": [{"name": intent, "confidence": 0.99}],
            "response_selector": {
                "faq": {"response": {"intent_response_key": "faq/casco",
                                     "confidence": answer_confidence}}
            },
        }
    )  # fmt: skip


@pytest.fixture
def component():
    return ResponseSelectorFallback({"retrieval_intent": "faq", "threshold": 0.4})


def test_uncertain_faq_answer_becomes_nlu_fallback(component):
    [result] = component.process([message("faq", 0.23)])
    assert result.get("intent") == {"name": "nlu_fallback", "confidence": 0.23}
    assert [i["name"] for i in result.get("intent_ranking")] == ["nlu_fallback", "faq"]


def test_confident_faq_answer_is_kept(component):
    [result] = component.process([message("faq", 0.9)])
    assert result.get("intent")["name"] == "faq"


def test_other_intents_are_untouched(component):
    [result] = component.process([message("greet", 0.1)])
    assert result.get("intent")["name"] == "greet"
