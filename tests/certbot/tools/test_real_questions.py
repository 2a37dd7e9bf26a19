import re
from urllib.parse import urlsplit

import pytest
import yaml

from certbot.tools.evaluate import HELD_OUT_FILE, load_held_out
from certbot.tools.real_questions import (
    REAL_QUESTIONS_DIR,
    SETS,
    RealQuestion,
    behaviour,
    kind,
    load_set,
    set_report,
)
from tests.servers import ROOT


def question(*expected: str) -> RealQuestion:
    return RealQuestion("q?", "https://example.org/faq", expected)


@pytest.mark.parametrize(
    ("outcome", "seen"),
    [
        ("faq/who_certifies", "faq/who_certifies"),
        ("ask_quote", "handoff"),
        ("request_human", "handoff"),
        ("out_of_scope", "decline"),
        ("nlu_fallback", "did_you_mean"),
        ("greet", "greet"),
    ],
)
def test_outcomes_read_as_what_the_visitor_sees(outcome, seen):
    assert behaviour(outcome) == seen


def test_kinds():
    assert kind(("faq/mandatory", "handoff")) == "answerable"
    assert kind(("handoff",)) == "handoff"
    assert kind(("decline",)) == "off-topic"
    assert kind(("greet",)) == "small talk"


def test_a_curated_answer_where_something_else_was_right_is_a_wrong_answer():
    questions = [
        question("faq/who_certifies"),
        question("faq/who_certifies"),
        question("handoff"),
        question("decline"),
        question("faq/mandatory", "handoff"),
    ]
    outcomes = ["faq/who_certifies", "nlu_fallback", "faq/mandatory", "out_of_scope", "ask_quote"]
    report = set_report(questions, outcomes)
    assert report["right"] == {"answerable": 2 / 3, "handoff": 0.0, "off-topic": 1.0}
    assert report["wrong_answer_rate"] == 1 / 5
    assert report["wrong_answers"] == [
        {"text": "q?", "expected": ["handoff"], "bot": "faq/mandatory"}
    ]
    assert report["outcomes"] == {
        "curated answer": 2, "decline": 1, "did_you_mean": 1, "handoff": 1
    }  # fmt: skip


def normalised(text: str) -> str:
    """Case, punctuation and spacing aside, as the sets' README compares texts."""
    return " ".join(re.sub(r"[^\w\s]", " ", text.casefold()).split())


def training_texts() -> set[str]:
    texts = set()
    for path in (ROOT / "data" / "nlu").glob("*.yml"):
        for block in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", []):
            for line in (block.get("examples") or "").splitlines():
                if line.strip().startswith("- "):
                    example = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", line.strip()[2:])
                    texts.add(normalised(example))
    return texts


SETS_ON_DISK = {name: load_set(ROOT / REAL_QUESTIONS_DIR / f"{name}.yml") for name in SETS}


def test_the_sets_are_collected():
    assert sum(len(questions) for questions in SETS_ON_DISK.values()) >= 200


@pytest.mark.parametrize("name", SETS)
def test_each_question_has_a_source_and_known_labels(name):
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    topics = {key.removeprefix("utter_") for key in domain["responses"] if "/" in key}
    labels = topics | {"handoff", "decline"} | set(domain["intents"])
    for question in SETS_ON_DISK[name]:
        assert question.text.strip(), question
        assert urlsplit(question.source).scheme in ("http", "https"), question
        assert question.expected and set(question.expected) <= labels, question


@pytest.mark.parametrize("name", SETS)
def test_no_question_is_in_the_training_data(name):
    training = training_texts()
    assert [q.text for q in SETS_ON_DISK[name] if normalised(q.text) in training] == []


def test_the_halves_share_no_source():
    hosts = {name: {urlsplit(q.source).hostname for q in SETS_ON_DISK[name]} for name in SETS}
    assert not hosts["dev"] & hosts["test"]


def test_no_held_out_example_is_in_the_training_data():
    training = training_texts()
    texts = [
        re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", t) for t, _ in load_held_out(ROOT / HELD_OUT_FILE)
    ]
    assert [text for text in texts if normalised(text) in training] == []
