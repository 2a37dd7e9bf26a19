from certbot.evaluate import gives_domain_answer, outcome, per_intent_scores


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


def test_domain_answers():
    assert gives_domain_answer("faq/mandatory")
    assert gives_domain_answer("ask_quote")
    assert not gives_domain_answer("out_of_scope")
    assert not gives_domain_answer("greet")


def test_per_intent_scores():
    scores = per_intent_scores(["a", "a", "b"], ["a", "b", "b"])
    assert scores["a"] == {"precision": 1.0, "recall": 0.5, "f1": 2 / 3, "support": 2}
    assert scores["b"]["precision"] == 0.5
