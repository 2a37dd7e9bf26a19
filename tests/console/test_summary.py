import pytest

from console.summary import summarise


def asked(text: str, intent: str, action: str) -> list[dict]:
    parse = {"intent": {"name": intent, "confidence": 0.8}, "intent_ranking": []}
    return [
        {"event": "user", "timestamp": 1.0, "text": text, "parse_data": parse},
        {"event": "action", "timestamp": 1.1, "name": action},
    ]


@pytest.mark.parametrize(
    ("intent", "action", "fell_back", "declined"),
    [
        ("nlu_fallback", "action_did_you_mean", True, False),
        ("needs_person", "utter_needs_person", True, False),
        ("out_of_scope", "utter_out_of_scope", False, True),
        ("faq", "utter_faq", False, False),
    ],
)
def test_questions_without_an_answer_are_flagged(intent, action, fell_back, declined):
    [message] = summarise("c", asked("Who audits the auditors?", intent, action)).turns
    assert (message.fell_back, message.declined) == (fell_back, declined)
