"""Likely mistakes reach the inbox although the bot was confident: what the visitor did right
after an answer (rephrased, contested, asked for a person), plus a fixed spot-check sample.
Events are shaped as Rasa serialises them."""

from __future__ import annotations

from datetime import date

import pytest

from console.inbox import (
    ENCODER_PREFERRED,
    NOT_WHAT_I_ASKED,
    PERSON_AFTER,
    REPHRASED,
    SAMPLE_ONE_IN,
    SPOT_CHECK,
    doubts,
    inbox_items,
    sampled,
)
from console.stats import dashboard
from console.summary import summarise


def turn(
    text: str, intent: str, action: str, confidence: float = 0.99, opinion: dict | None = None
) -> list[dict]:
    """A visitor message with its parse (and second opinion) and the action answering it."""
    name, _, answer = intent.partition("/")
    parsed = {"name": name, "confidence": confidence}
    if answer:
        parsed["full_retrieval_intent_name"] = intent
    parse = {"intent": parsed, "intent_ranking": [parsed]}
    if opinion:
        parse["second_opinion"] = opinion
    return [
        {"event": "user", "timestamp": 1.0, "text": text, "parse_data": parse},
        {"event": "action", "timestamp": 1.1, "name": action},
        {"event": "bot", "timestamp": 1.2, "text": f"reply to {text}"},
    ]


ANSWER = turn("Who can get ISO 22000 certification?", "faq/who_certifies", "utter_faq")


@pytest.mark.parametrize(
    ("then", "reason"),
    [
        (turn("that's not what I asked", "deny", "utter_default"), NOT_WHAT_I_ASKED),
        (turn("No, it doesn't answer my question!", "greet", "utter_greet"), NOT_WHAT_I_ASKED),
        (turn("I want to talk to a person", "request_human", "contact_form"), PERSON_AFTER),
        (turn("/request_human", "request_human", "contact_form"), PERSON_AFTER),
        (turn("who is eligible for ISO 22000 certification", "faq/mandatory", "utter_faq"),
         REPHRASED),
        (turn("and who certifies food plants?", "faq/who_certifies", "utter_faq"), REPHRASED),
    ],
)  # fmt: skip
def test_what_the_visitor_does_next_puts_a_confident_answer_in_the_inbox(then, reason):
    conversation = summarise("c1", ANSWER + then)
    assert doubts(conversation) == {0: reason}
    [item] = [i for i in inbox_items([conversation], set()) if i.message.index == 0]
    assert item.reasons == (reason,)
    assert item.message.confidence == 0.99


@pytest.mark.parametrize(
    "then",
    [
        turn("thanks, that helps", "thank", "utter_thank"),
        turn("is ISO certification mandatory?", "faq/mandatory", "utter_faq"),
        turn("what is CASCO", "faq/casco", "utter_faq"),
    ],
)
def test_a_new_question_or_thanks_leaves_the_answer_alone(then):
    conversation = summarise("c1", ANSWER + then)
    assert doubts(conversation) == {}


def test_a_form_answer_or_a_declined_question_is_not_doubted():
    declined = turn("weather in Paris?", "out_of_scope", "utter_out_of_scope")
    conversation = summarise("c1", declined + turn("weather in Paris??", "out_of_scope", "x"))
    assert doubts(conversation) == {}
    form = [{"event": "active_loop", "timestamp": 1.3, "name": "contact_form"}]
    named = summarise("c2", ANSWER + form + turn("Ana Pereira", "request_human", "contact_form"))
    assert doubts(named) == {}


def test_a_fixed_sample_of_other_answers_is_a_spot_check():
    keys = [(f"conversation-{n}", 0) for n in range(5000)]
    chosen = [key for key in keys if sampled(*key)]
    assert 0.5 / SAMPLE_ONE_IN < len(chosen) / len(keys) < 1.5 / SAMPLE_ONE_IN
    assert chosen == [key for key in keys if sampled(*key)]  # the same on every view
    [(conversation_id, _), *_] = chosen
    conversation = summarise(conversation_id, ANSWER)
    [item] = inbox_items([conversation], set())
    assert item.reasons == (SPOT_CHECK,)
    unsampled = next(cid for cid, _ in keys if not sampled(cid, 0))
    assert inbox_items([summarise(unsampled, ANSWER)], set()) == []


def test_the_dashboard_counts_answers_then_doubted_next_to_answered():
    rephrased = summarise("c1", ANSWER + turn("who can be certified to 22000", "faq/x", "y"))
    thanked = summarise("c2", ANSWER + turn("thanks", "thank", "utter_thank"))
    data = dashboard([rephrased, thanked], today=date(1970, 1, 2))
    assert data["answered_then_doubted"] == (1, 0.25)


def test_an_answer_the_sentence_encoder_ranked_second_is_listed():
    opinion = {"answer": "faq/who_certifies", "likeliest": ["ask_quote", "faq/who_certifies"]}
    doubted = turn("Who can get ISO 22000?", "faq/who_certifies", "utter_faq", opinion=opinion)
    [item] = inbox_items([summarise("c1", doubted)], set())
    assert item.reasons == (ENCODER_PREFERRED,)
    assert item.message.encoder_preferred == "ask_quote"
    vetoed = {"answer": "faq/who_certifies", "likeliest": ["ask_quote", "needs_person"]}
    fell_back = turn("Who can get ISO 22000?", "nlu_fallback", "action_did_you_mean", 0.9, vetoed)
    [item] = inbox_items([summarise("c2", fell_back)], set())
    assert item.reasons == ("fell back",)
