from retrain.gate import Tolerances, judge
from tests.retrain.conftest import report

LIMITS = Tolerances(max_accuracy_drop=0.01, max_f1_drop=0.1, max_off_topic_rise=0.002)


def test_equal_model_passes_with_side_by_side_figures():
    verdict = judge(report(), report(), LIMITS)
    assert verdict.passed and verdict.reasons == []
    assert verdict.comparison["accuracy"] == {"old": 0.97, "new": 0.97, "delta": 0.0}
    assert [row["intent"] for row in verdict.comparison["per_intent_f1"]] == [
        "faq/who_certifies",
        "greet",
    ]


def test_small_drop_within_tolerance_passes():
    assert judge(report(accuracy=0.962, off_topic=0.003), report(), LIMITS).passed


def test_accuracy_drop_beyond_tolerance_is_rejected():
    verdict = judge(report(accuracy=0.955), report(), LIMITS)
    assert not verdict.passed
    assert verdict.reasons == ["held-out accuracy drops by 1.50% (tolerance 1.00%)"]


def test_off_topic_rise_is_rejected():
    verdict = judge(report(off_topic=0.0045), report(), LIMITS)
    assert verdict.reasons == ["off-topic answer rate rises by 0.25% (tolerance 0.20%)"]


def test_one_intent_getting_worse_is_rejected_even_if_accuracy_holds():
    verdict = judge(report(faq__who_certifies=0.7), report(), LIMITS)
    assert verdict.reasons == ["F1 of faq/who_certifies drops by 0.25 (tolerance 0.15)"]


def test_one_more_miss_on_an_intent_with_few_examples_is_noise_not_a_regression():
    live = report()
    live["held_out"]["per_intent"]["greet"]["support"] = 3
    assert judge(report(greet=0.75), live, LIMITS).passed
    verdict = judge(report(greet=0.4), live, LIMITS)
    assert verdict.reasons == ["F1 of greet drops by 0.55 (tolerance 0.50)"]


def test_many_examples_keep_the_configured_tolerance():
    live = report()
    live["held_out"]["per_intent"]["greet"]["support"] = 40
    assert judge(report(greet=0.84), live, LIMITS).reasons == [
        "F1 of greet drops by 0.11 (tolerance 0.10)"
    ]


def test_absolute_gates_apply_without_a_live_model():
    verdict = judge(report(accuracy=0.85), None, LIMITS)
    assert not verdict.passed and verdict.comparison is None
    assert "held-out accuracy below the gate" in verdict.reasons[0]


def test_a_failing_test_story_rejects():
    candidate = report()
    candidate["stories"]["failed"] = 1
    verdict = judge(candidate, report(), LIMITS)
    assert verdict.reasons == ["1 of 11 test stories fail"]
    assert verdict.comparison["stories_failed"] == {"old": 0, "new": 1, "delta": 1}
