import pytest

from certbot.tools import clinc

NEGATIVES = clinc.NEGATIVES_FILE


def committed_negatives() -> list[str]:
    lines = NEGATIVES.read_text(encoding="utf-8").splitlines()
    return [line[6:] for line in lines if line.startswith("    - ")]


def normalised(text: str) -> str:
    return " ".join(text.lower().split())


def test_evaluation_split_has_the_5500_held_out_queries():
    queries = clinc.evaluation_queries(clinc.load(clinc.EVALUATION_FILE))
    assert len(queries) == 5500


def test_no_evaluation_query_is_trained_on():
    evaluation = {
        normalised(t) for t, _ in clinc.evaluation_queries(clinc.load(clinc.EVALUATION_FILE))
    }
    leaked = [t for t in committed_negatives() if normalised(t) in evaluation]
    assert leaked == []


def test_small_talk_overlapping_the_bot_is_not_a_negative():
    assert "hello" not in {normalised(t) for t in committed_negatives()}
    assert set(clinc.OVERLAPPING_INTENTS.values()) <= {
        "greet", "goodbye", "thank", "bot_challenge", "help", "affirm", "deny",
    }  # fmt: skip


@pytest.mark.skipif(not clinc.DEFAULT_SOURCE.exists(), reason="CLINC150 source not on this machine")
def test_committed_negatives_match_the_generator():
    data = clinc.load(clinc.DEFAULT_SOURCE)
    negatives = clinc.training_negatives(data)
    assert NEGATIVES.read_text(encoding="utf-8") == clinc.to_rasa_yaml(negatives)
    in_scope = {label for _, label in data["train"]} - set(clinc.OVERLAPPING_INTENTS)
    assert len(negatives) >= len(in_scope) * clinc.PER_INTENT
