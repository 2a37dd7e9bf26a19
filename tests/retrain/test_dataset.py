"""Annotations -> var/training/reviewed.yml: checks, duplicates, conflicts, FAQs, atomic writes."""

from __future__ import annotations

import dataclasses
import difflib
import os
import shutil
import subprocess
import sys
import textwrap
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rasa.shared.importers.importer import TrainingDataImporter
from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

from console.tables import Annotation
from retrain.dataset import (
    HEADER,
    LEGACY_REVIEWED,
    MAX_EXAMPLE_CHARS,
    REVIEWED,
    ExportError,
    ReviewedExample,
    migrate_legacy,
    plan_export,
    single_spaced,
    training_data,
    write_export,
)
from tests.servers import ROOT

# Characters that mean something to YAML, to Rasa's markup or to Rasa's \uXXXX pre-decoding.
HOSTILE = "\\\"'#:-[](){}$!&*%@`|>?,= \n\tuU0123456789abcdefABCDEF/"
HOSTILE_TEXTS = [
    'she said "no": ok?',
    "it's a 'quote' # not a comment",
    "- starts like a list item",
    "key: value: another",
    '{curly} and {"json": 1} without brackets',
    "${HOME} and $PATH stay as typed",
    "backslash \\ and \\\\ and trailing \\",
    "\\u0041 \\U0001F600 \\x41 \\n typed by hand",
    "null",
    "true",
    "123",
    "&anchor *alias !tag %directive @at `tick` |pipe >fold",
    "[just brackets] (and parentheses)",
]
UNICODE_TEXTS = [
    "Ünïcödé ISO 9001 – “curly quotes” 😀 👩‍💻",
    "שלום עליכם مرحبا 你好",
    "zero\u200bwidth\ufeffbom\u00adsoft",
    "line\u2028separator\u2029and\x85next line",
    "non\u00a0breaking\u3000spaces",
]
EXPECTED_REASONS = ("empty example", "longer than", "unprintable character", "entity markup")


def annotation(
    id: int,
    text: str,
    intent: str | None = "greet",
    action: str = "assign_intent",
    faq_name: str | None = None,
    faq_answer: str | None = None,
    undone: bool = False,
) -> Annotation:
    return Annotation(
        id=id,
        conversation_id=f"c{id}",
        event_index=1,
        event_timestamp=0.0,
        text=text,
        action=action,
        intent=intent if action == "assign_intent" else None,
        faq_name=faq_name,
        faq_answer=faq_answer,
        created_by="rita",
        undone_at=datetime.now(timezone.utc) if undone else None,
    )


def new_faq(id: int, text: str, name: str, answer: str) -> Annotation:
    return annotation(id, text, action="new_faq", faq_name=name, faq_answer=answer)


def copy_project(into: Path, nlu: str | None = None) -> Path:
    """domain, config, data and the held-out set; `nlu` replaces data/nlu/ with one file."""
    shutil.copyfile(ROOT / "domain.yml", into / "domain.yml")
    shutil.copyfile(ROOT / "config.yml", into / "config.yml")
    shutil.copytree(ROOT / "data", into / "data")
    (into / "tests" / "nlu").mkdir(parents=True)
    shutil.copyfile(ROOT / "tests/nlu/test_nlu.yml", into / "tests/nlu/test_nlu.yml")
    if nlu is not None:
        shutil.rmtree(into / "data" / "nlu")
        (into / "data" / "nlu").mkdir()
        (into / "data" / "nlu" / "small.yml").write_text(nlu, encoding="utf-8")
        (into / "tests/nlu/test_nlu.yml").unlink()
    return into


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_project(tmp_path)


@pytest.fixture(scope="module")
def small_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    nlu = 'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - hello there\n'
    return copy_project(tmp_path_factory.mktemp("small"), nlu)


def export(project: Path, annotations: list[Annotation]) -> tuple:
    plan = plan_export(project, annotations)
    return plan, write_export(project, plan)


def read_back(path: Path) -> tuple[dict[int, tuple[str, str]], dict]:
    """What Rasa reads from the file: {annotation: (text, intent)} and the responses."""
    data = RasaYAMLReader().read(path)
    examples = {}
    for message in data.training_examples:
        intent = message.get("intent_response_key") or message.get("intent")
        examples[message.get("metadata")["example"]["annotation"]] = (message.get("text"), intent)
    return examples, data.responses


def leftovers(project: Path) -> list[str]:
    return sorted(p.name for p in (project / "data" / "nlu").iterdir() if p.suffix == ".tmp")


def test_examples_are_written_normalised_and_read_back_by_rasa(project):
    plan, path = export(
        project,
        [
            annotation(1, "  who hands out\n the   iso certs then ", "faq/who_certifies"),
            annotation(2, "is my camera's iso broken", action="out_of_scope"),
            annotation(3, "good day to you, machine", "greet"),
        ],
    )
    assert [e.annotation_id for e in plan.added] == [1, 2, 3]
    assert not (plan.duplicates or plan.conflicts or plan.rejected or plan.removed)
    assert path == project / REVIEWED
    assert path.read_text(encoding="utf-8").startswith(HEADER)
    assert read_back(path) == (
        {
            1: ("who hands out the iso certs then", "faq/who_certifies"),
            2: ("is my camera's iso broken", "out_of_scope"),
            3: ("good day to you, machine", "greet"),
        },
        {},
    )
    assert plan.as_dict()["added"][0] == {
        "text": "who hands out the iso certs then",
        "intent": "faq/who_certifies",
        "annotation_id": 1,
    }


def test_duplicates_of_any_data_file_are_skipped_case_insensitively(project):
    plan, path = export(
        project,
        [
            annotation(1, "DOES ISO  issue certificates?", "faq/iso_certifies"),  # faq.yml
            annotation(2, "Let me know if GRUB burger takes reservations", action="out_of_scope"),
            annotation(3, "a brand new greeting, friend", "greet"),
            annotation(4, "A brand new GREETING, friend", "greet"),  # same as #3
        ],
    )
    assert [e.annotation_id for e in plan.duplicates] == [1, 2, 4]
    assert [e.annotation_id for e in plan.added] == [3]
    assert set(read_back(path)[0]) == {3}


def test_a_text_with_another_intent_in_the_training_data_is_a_conflict(project):
    plan, path = export(project, [annotation(5, "Does ISO certify companies", "greet")])
    assert plan.conflicts[0].other_intent == "faq/iso_certifies"
    assert plan.conflicts[0].where == "data/nlu/faq.yml"
    assert (plan.conflicts[0].intent, plan.conflicts[0].annotation_id) == ("greet", 5)
    assert not plan.added
    assert read_back(path)[0] == {}


def test_annotations_that_disagree_are_both_conflicts_and_neither_is_written(project):
    plan, path = export(
        project,
        [
            annotation(1, "what about the audit fee", "ask_quote"),
            annotation(2, "What about the audit fee", "thank"),
        ],
    )
    assert [(c.annotation_id, c.other_intent, c.where) for c in plan.conflicts] == [
        (1, "thank", "annotation #2"),
        (2, "ask_quote", "annotation #1"),
    ]
    assert read_back(path)[0] == {}


def test_an_example_of_the_held_out_test_set_is_never_trained_on(project):
    plan = plan_export(project, [annotation(1, "Iso audits companies right?", "faq/iso_certifies")])
    assert plan.rejected[0].annotation_id == 1
    assert "held-out test set" in plan.rejected[0].reason


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (annotation(1, "hello robot", "no_such_intent"), "unknown intent 'no_such_intent'"),
        (annotation(1, "hello robot", "faq"), "unknown intent 'faq'"),
        (annotation(1, "hello robot", "feedback"), "unknown intent 'feedback'"),
        (annotation(1, "hello robot", None), "unknown intent ''"),
        (annotation(1, "hello robot", action="delete_all"), "unknown action 'delete_all'"),
        (annotation(1, ""), "empty example"),
        (annotation(1, " \n\t\u2028 "), "empty example"),
        (annotation(1, "x" * 10_000), f"example longer than {MAX_EXAMPLE_CHARS} characters"),
        (annotation(1, "ring the bell \x07 now"), "unprintable character U+0007"),
        (annotation(1, "delete \x7f this"), "unprintable character U+007F"),
        (annotation(1, "lone \ud800 surrogate"), "unprintable character U+D800"),
        (annotation(1, "not a char \uffff"), "unprintable character U+FFFF"),
        (annotation(1, "certify [ISO 9001](standard) please"), "entity markup"),
        (annotation(1, 'what about [this]{"entity": "x"}'), "entity markup"),
        (annotation(1, "and [that][more] too"), "entity markup"),
    ],
)
def test_bad_annotations_are_rejected_with_a_reason_and_the_file_stays_valid(project, bad, reason):
    good = annotation(2, "hello hello robot friend", "greet")
    plan, path = export(project, [bad, good])
    assert len(plan.rejected) == 1
    assert plan.rejected[0].annotation_id == 1
    assert reason in plan.rejected[0].reason
    assert read_back(path)[0] == {2: ("hello hello robot friend", "greet")}


@pytest.mark.parametrize("texts", [HOSTILE_TEXTS, HOSTILE_TEXTS + UNICODE_TEXTS])
def test_hostile_texts_are_read_back_exactly(project, texts):
    """The first batch makes an all-ASCII file (Rasa then pre-decodes \\uXXXX), the second not."""
    annotations = [annotation(i, text, "greet") for i, text in enumerate(texts, 1)]
    plan, path = export(project, annotations)
    assert not plan.rejected
    assert path.read_text(encoding="utf-8").isascii() == (texts == HOSTILE_TEXTS)
    expected = {e.annotation_id: (e.text, "greet") for e in plan.added}
    assert expected == {i: (single_spaced(t), "greet") for i, t in enumerate(texts, 1)}
    assert read_back(path)[0] == expected


def test_undone_and_deleted_annotations_are_removed_with_a_clean_diff(project):
    batch = [annotation(i, f"greeting number {i}, hello", "greet") for i in (1, 2, 3)]
    _, path = export(project, batch)
    before = path.read_text(encoding="utf-8")

    undone = [batch[0], annotation(2, "greeting number 2, hello", "greet", undone=True)]
    plan, _ = export(project, undone)  # #3 absent: its conversation was deleted
    assert [e.annotation_id for e in plan.removed] == [2, 3]
    assert [e.annotation_id for e in plan.kept] == [1]
    assert not plan.added
    assert set(read_back(path)[0]) == {1}
    diff = list(difflib.ndiff(before.splitlines(), path.read_text(encoding="utf-8").splitlines()))
    assert not [line for line in diff if line.startswith("+ ")]
    assert len([line for line in diff if line.startswith("- ")]) == 4


def test_new_annotations_only_add_lines_and_a_repeat_export_changes_nothing(project):
    first = [annotation(3, "hey hey bot", "greet"), annotation(5, "thanks a ton, pal", "thank")]
    _, path = export(project, first)
    before = path.read_text(encoding="utf-8")
    more = [
        *first,
        annotation(7, "hey there machine friend", "greet"),
        annotation(8, "ta muchly", "thank"),
    ]
    plan, _ = export(project, more)
    assert [e.annotation_id for e in plan.added] == [7, 8]
    after = path.read_text(encoding="utf-8")
    diff = list(difflib.ndiff(before.splitlines(), after.splitlines()))
    assert not [line for line in diff if line.startswith("- ")]
    assert len([line for line in diff if line.startswith("+ ")]) == 4

    again = plan_export(project, more)
    assert not again.changes_data
    assert (again.added, again.removed, len(again.kept)) == ([], [], 4)
    write_export(project, again)
    assert path.read_text(encoding="utf-8") == after


@pytest.mark.integration  # runs Rasa's own command over the project
def test_a_new_faq_goes_with_its_answer_into_the_domain_rasa_trains_on(project):
    answer = 'Our "quality" answer:\r\nsecond line # not a comment'
    batch = [
        new_faq(1, "can you explain management reviews", "management_reviews", answer),
        new_faq(2, "what happens in a management review", "management_reviews", answer),
        annotation(3, "how often are management reviews held", "faq/management_reviews"),
    ]
    plan, path = export(project, batch)
    clean = 'Our "quality" answer:\nsecond line # not a comment'
    assert plan.new_faqs == {"management_reviews": clean}
    assert plan.adds_intent
    assert [e.intent for e in plan.added] == ["faq/management_reviews"] * 3
    assert read_back(path)[1] == {"utter_faq/management_reviews": [{"text": clean}]}

    importer = TrainingDataImporter.load_from_config(
        str(project / "config.yml"),
        str(project / "domain.yml"),
        list(map(str, training_data(project))),
    )
    assert importer.get_domain().responses["utter_faq/management_reviews"] == [{"text": clean}]
    trained = [
        m for m in importer.get_nlu_data().training_examples
        if m.get("intent_response_key") == "faq/management_reviews"
    ]  # fmt: skip
    assert len(trained) == 3

    assert not plan_export(project, batch).adds_intent  # exported already
    without = plan_export(project, [annotation(4, "hello hello hello bot", "greet")])
    assert without.removed_faqs == ["management_reviews"]
    assert without.adds_intent
    write_export(project, without)
    assert read_back(path)[1] == {}


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (new_faq(1, "text of it", "who_certifies", "An answer."), "exists already in domain.yml"),
        (new_faq(1, "text of it", "Bad-Name", "An answer."), "lowercase snake_case"),
        (new_faq(1, "text of it", "a" * 41, "An answer."), "3 to 40 characters"),
        (new_faq(1, "text of it", "fine_name", "  \n "), "needs an answer"),
        (new_faq(1, "text of it", "fine_name", "x" * 1001), "answer longer than 1000"),
        (new_faq(1, "text of it", "fine_name", "Hi {name}!"), "slot placeholders"),
        (new_faq(1, "text of it", "fine_name", "bell \x07"), "unprintable character U+0007"),
    ],
)
def test_bad_new_faqs_are_rejected(project, bad, reason):
    plan, path = export(project, [bad])
    assert plan.rejected[0].annotation_id == 1
    assert reason in plan.rejected[0].reason
    assert not plan.new_faqs
    assert read_back(path) == ({}, {})


def test_a_second_answer_for_the_same_new_faq_is_rejected(project):
    plan = plan_export(
        project,
        [
            new_faq(1, "what is a witness audit", "witness_audits", "First answer."),
            new_faq(2, "explain witness audits", "witness_audits", "Another answer."),
            annotation(3, "define witness audit", "faq/not_defined_anywhere"),
        ],
    )
    assert plan.new_faqs == {"witness_audits": "First answer."}
    assert [r.annotation_id for r in plan.rejected] == [2, 3]
    assert "already has another answer (annotation #1)" in plan.rejected[0].reason


def test_a_plan_rasa_would_misread_is_not_written_and_the_old_file_stays(project):
    _, path = export(project, [annotation(1, "hello again robot", "greet")])
    before = path.read_bytes()
    plan = plan_export(project, [annotation(1, "hello again robot", "greet")])
    smuggled = ReviewedExample("[ISO 9001](standard) smuggled", "greet", 2)
    with pytest.raises(ExportError, match="annotation"):
        write_export(project, dataclasses.replace(plan, added=[smuggled]))
    assert path.read_bytes() == before
    assert leftovers(project) == []


def test_a_failing_disk_write_leaves_the_old_file_and_no_temporary_file(project):
    """A real write error: the file-size limit (RLIMIT_FSIZE) fails the temporary file."""
    _, path = export(project, [annotation(1, "hello again robot", "greet")])
    before = path.read_bytes()
    script = textwrap.dedent(
        f"""
        import resource, signal, sys
        from pathlib import Path
        from console.tables import Annotation
        from retrain.dataset import plan_export, write_export
        project = Path({str(project)!r})
        texts = ["a long greeting number %d, hello there robot" % i for i in range(2, 200)]
        batch = [Annotation(id=i, text=t, action="assign_intent", intent="greet")
                 for i, t in enumerate(texts, 2)]
        plan = plan_export(project, batch)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, ({len(before)}, resource.RLIM_INFINITY))
        try:
            write_export(project, plan)
        except OSError as error:
            sys.exit(f"write failed: {{error}}")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "RASA_TELEMETRY_ENABLED": "false", "PYTHONWARNINGS": "ignore"},
        timeout=300,
    )
    assert result.returncode == 1, result.stderr[-2000:]
    assert "write failed: [Errno 27] File too large" in result.stderr
    assert path.read_bytes() == before
    assert leftovers(project) == []


def test_a_file_changed_since_the_plan_is_not_overwritten(project):
    plan = plan_export(project, [annotation(1, "hello again robot", "greet")])
    _, path = export(project, [annotation(2, "another fine hello", "greet")])
    before = path.read_bytes()
    with pytest.raises(ExportError, match="changed since the export was planned"):
        write_export(project, plan)
    assert path.read_bytes() == before


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - hi by hand\n',
            "without an annotation id",
        ),
        (
            'version: "3.1"\nresponses:\n  utter_greet:\n  - text: hi\n',
            "response the console did not write",
        ),
        (
            'version: "3.1"\nnlu:\n- intent: greet\n  examples: [unclosed\n',
            "not valid training data",
        ),
    ],
)
def test_a_reviewed_file_not_written_by_the_console_is_refused_and_kept(project, content, message):
    path = project / REVIEWED
    path.parent.mkdir(parents=True)
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ExportError, match=message):
        plan_export(project, [annotation(1, "hello again robot", "greet")])
    assert path.read_text(encoding="utf-8") == content


def test_the_header_comment_is_kept(project):
    path = project / REVIEWED
    path.parent.mkdir(parents=True)
    path.write_text('# Our own words about this file.\nversion: "3.1"\nnlu: []\n', encoding="utf-8")
    export(project, [annotation(1, "hello again robot", "greet")])
    text = path.read_text(encoding="utf-8")
    assert text.startswith('# Our own words about this file.\nversion: "3.1"\nnlu:\n')


@pytest.mark.integration  # runs Rasa's own command over the project
def test_rasa_data_validate_passes_with_reviewed_examples_and_a_new_faq(project):
    export(
        project,
        [
            annotation(1, 'who hands out "iso certs": tell me #now', "faq/who_certifies"),
            new_faq(2, "how long are internal audit records kept", "audit_records", "A year."),
            annotation(3, "is my camera's iso broken", action="out_of_scope"),
        ],
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "rasa",
            "data",
            "validate",
            "--fail-on-warnings",
            "--data",
            *(str(p.relative_to(project)) for p in training_data(project)),
        ],
        cwd=project,
        capture_output=True,
        text=True,
        env={**os.environ, "RASA_TELEMETRY_ENABLED": "false", "PYTHONPATH": str(ROOT)},
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "reviewed.yml" not in result.stdout + result.stderr
    assert "audit_records" in (project / REVIEWED).read_text()


def test_the_reviewed_file_lives_under_var_and_is_trained_on_as_extra_data(project):
    assert REVIEWED.parts[0] == "var"
    assert training_data(project) == [project / "data"]
    export(project, [annotation(1, "who hands out the papers", "faq/who_certifies")])
    assert training_data(project) == [project / "data", project / REVIEWED]
    assert not list((project / "data").rglob("reviewed.yml"))


def test_an_earlier_versions_reviewed_file_moves_from_data_to_var(project):
    export(project, [annotation(1, "who hands out the papers", "faq/who_certifies")])
    written = (project / REVIEWED).read_bytes()
    legacy = project / LEGACY_REVIEWED
    os.replace(project / REVIEWED, legacy)
    assert migrate_legacy(project) == f"moved {LEGACY_REVIEWED} to {REVIEWED}"
    assert (project / REVIEWED).read_bytes() == written and not legacy.exists()
    assert migrate_legacy(project) is None


def test_a_legacy_file_is_not_moved_over_a_newer_one_or_when_not_ours(project):
    export(project, [annotation(1, "who hands out the papers", "faq/who_certifies")])
    legacy = project / LEGACY_REVIEWED
    legacy.write_text("version: '3.1'\nnlu: []\n")  # a file of the team's own
    assert migrate_legacy(project) is None and legacy.exists()
    shutil.copyfile(project / REVIEWED, legacy)
    assert "left in place" in migrate_legacy(project)
    assert legacy.exists()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(), st.text(alphabet=HOSTILE)))
def test_any_text_is_read_back_exactly_or_rejected_for_a_stated_reason(small_project, text):
    plan, path = export(small_project, [annotation(1, text, "greet")])
    if plan.rejected:
        assert any(reason in plan.rejected[0].reason for reason in EXPECTED_REASONS)
        assert read_back(path) == ({}, {})
    elif plan.duplicates:
        assert single_spaced(text).casefold() == "hello there"
    else:
        assert read_back(path)[0] == {1: (single_spaced(text), "greet")}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.one_of(st.text(max_size=40), st.text(alphabet=HOSTILE, max_size=40)), max_size=8),
    st.text(alphabet=HOSTILE, max_size=60),
)
def test_any_batch_is_sorted_out_completely_and_the_file_stays_valid(small_project, texts, answer):
    batch = [
        annotation(i, text, ("greet", "out_of_scope", "thank")[i % 3])
        for i, text in enumerate(texts, 1)
    ]
    batch.append(new_faq(len(texts) + 1, "zzz unique faq example", "hostile_faq", answer))
    plan, path = export(small_project, batch)
    outcome = [e.annotation_id for e in plan.added + plan.kept + plan.duplicates]
    outcome += [c.annotation_id for c in plan.conflicts] + [r.annotation_id for r in plan.rejected]
    assert sorted(outcome) == [a.id for a in batch]
    examples, responses = read_back(path)
    assert examples == {e.annotation_id: (e.text, e.intent) for e in plan.added + plan.kept}
    assert responses == {f"utter_faq/{n}": [{"text": a}] for n, a in plan.faqs.items()}
    assert len({text.casefold() for text, _ in examples.values()}) == len(examples)
