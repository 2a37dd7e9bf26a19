import asyncio

import pytest

from actions.fallback import suggestions
from certbot.tools.clinc import EVALUATION_FILE, evaluation_queries, load
from certbot.tools.evaluate import (
    MAX_OFF_TOPIC_ANSWERED,
    MAX_REAL_WRONG_ANSWERS,
    MIN_ACCURACY,
    MIN_REAL_RIGHT,
    gate_failures,
    gives_domain_answer,
    load_agent,
    load_held_out,
    outcome,
    parse_all,
    per_intent_scores,
    side_by_side,
)
from tests.servers import MODEL


def parse(name, ranking=(), full=None):
    intent = {"name": name, "confidence": 0.9}
    if full:
        intent["full_retrieval_intent_name"] = full
    return {"intent": intent, "intent_ranking": [{"name": n, "confidence": c} for n, c in ranking]}


def test_faq_is_scored_by_its_full_retrieval_intent():
    assert outcome(parse("faq", full="faq/casco")) == "faq/casco"


def test_low_confidence_off_topic_counts_as_declined():
    ranked = parse("nlu_fallback", [("nlu_fallback", 0.6), ("out_of_scope", 0.5), ("faq", 0.4)])
    assert outcome(ranked) == "out_of_scope"


def test_low_confidence_in_domain_counts_as_did_you_mean():
    ranked = parse("nlu_fallback", [("nlu_fallback", 0.6), ("faq", 0.5), ("out_of_scope", 0.4)])
    assert outcome(ranked) == "nlu_fallback"


@pytest.mark.parametrize(
    "ranking",
    [
        [],
        [("nlu_fallback", 0.6)],
        [("nlu_fallback", 0.6), ("out_of_scope", 0.5), ("faq", 0.4)],
        [("out_of_scope", 0.5), ("nlu_fallback", 0.45), ("greet", 0.05)],
        [("nlu_fallback", 0.6), ("faq", 0.5), ("out_of_scope", 0.4)],
        [("greet", 0.3), ("out_of_scope", 0.29)],
    ],
)
def test_a_low_confidence_message_is_declined_when_the_fallback_action_declines_it(ranking):
    scored = outcome(parse("nlu_fallback", ranking))
    assert (scored == "out_of_scope") == (suggestions(parse("nlu_fallback", ranking)) is None)


def test_domain_answers():
    assert gives_domain_answer("faq/mandatory")
    assert gives_domain_answer("ask_quote")
    assert not gives_domain_answer("out_of_scope")
    assert not gives_domain_answer("greet")


def test_per_intent_scores():
    scores = per_intent_scores(["a", "a", "b"], ["a", "b", "b"])
    assert scores["a"] == {"precision": 1.0, "recall": 0.5, "f1": 2 / 3, "support": 2}
    assert scores["b"]["precision"] == 0.5


def report(accuracy, off_topic, f1, stories_failed=None):
    return {
        "held_out": {"accuracy": accuracy, "per_intent": {k: {"f1": v} for k, v in f1.items()}},
        "clinc150": {"certification_answer_rate": off_topic},
        "stories": None if stories_failed is None else {"stories": 11, "failed": stories_failed},
    }


def test_side_by_side_gives_both_figures_and_deltas_per_intent():
    new = report(0.96, 0.004, {"greet": 1.0, "faq/casco": 0.8, "faq/new_one": 0.9}, 0)
    old = report(0.97, 0.002, {"greet": 1.0, "faq/casco": 0.9})
    comparison = side_by_side(new, old)
    assert comparison["accuracy"] == {"old": 0.97, "new": 0.96, "delta": pytest.approx(-0.01)}
    assert comparison["off_topic_rate"]["delta"] == pytest.approx(0.002)
    assert comparison["stories_failed"] == {"old": None, "new": 0, "delta": None}
    assert comparison["per_intent_f1"] == [
        {"intent": "faq/casco", "old": 0.9, "new": 0.8, "delta": pytest.approx(-0.1)},
        {"intent": "faq/new_one", "old": None, "new": 0.9, "delta": None},
        {"intent": "greet", "old": 1.0, "new": 1.0, "delta": 0.0},
    ]


def test_gate_failures_name_each_failed_gate():
    assert gate_failures(report(MIN_ACCURACY, MAX_OFF_TOPIC_ANSWERED, {}, 0)) == []
    failures = gate_failures(report(MIN_ACCURACY - 0.01, MAX_OFF_TOPIC_ANSWERED + 0.001, {}, 2))
    assert [f.split(" ")[0] for f in failures] == ["held-out", "too", "2"]


@pytest.mark.parametrize(("rate", "fails"), [(MAX_REAL_WRONG_ANSWERS, False), (0.16, True)])
def test_wrong_answers_to_real_questions_are_gated(rate, fails):
    gated = report(MIN_ACCURACY, 0.0, {}, 0)
    gated["real_questions"] = {"test": {"questions": 132, "wrong_answer_rate": rate}}
    assert bool(gate_failures(gated)) == fails
    assert gate_failures(report(MIN_ACCURACY, 0.0, {}, 0)) == []


@pytest.mark.parametrize("kind", sorted(MIN_REAL_RIGHT))
def test_real_questions_treated_right_are_gated_per_kind(kind):
    gated = report(MIN_ACCURACY, 0.0, {}, 0)
    right = {**MIN_REAL_RIGHT}
    gated["real_questions"] = {"test": {"questions": 132, "wrong_answer_rate": 0.0, "right": right}}
    assert gate_failures(gated) == []
    right[kind] -= 0.01
    [failure] = gate_failures(gated)
    assert kind in failure


def test_parses_in_batches_are_what_the_bot_parses_one_message_at_a_time():
    agent = load_agent(MODEL)
    texts = [text for text, _ in load_held_out()[:70]]
    texts += [text for text, _ in evaluation_queries(load(EVALUATION_FILE))[:70]]
    texts += ["hi", "/session_start", "iso " * 300, "¿quién emite los certificados ISO?"]
    batched = parse_all(agent, texts)
    for text, parse in zip(texts, batched, strict=True):
        alone = asyncio.run(agent.parse_message(text))
        assert parse["text"] == alone["text"] == text.strip()
        assert outcome(parse) == outcome(alone), text
        assert parse["intent"]["confidence"] == pytest.approx(
            alone["intent"]["confidence"], abs=1e-3
        )
        assert parse.keys() == alone.keys()
        ranked = [
            (i["name"], pytest.approx(i["confidence"], abs=1e-4)) for i in alone["intent_ranking"]
        ]
        assert [(i["name"], i["confidence"]) for i in parse["intent_ranking"]] == ranked
        if "response_selector" in alone:
            picked, alone_picked = (p["response_selector"]["faq"] for p in (parse, alone))
            assert (
                picked["response"]["intent_response_key"]
                == (alone_picked["response"]["intent_response_key"])
            )
            assert picked["response"]["confidence"] == pytest.approx(
                alone_picked["response"]["confidence"], abs=1e-4
            )
