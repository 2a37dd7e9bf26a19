"""A model archive with new answers: only the answers and the model id change."""

from __future__ import annotations

import json
import tarfile

import pytest

from retrain.archive import AnswersUnreadable, archive_responses, with_answers
from tests.servers import MODEL


def members(path) -> dict[str, bytes]:
    with tarfile.open(path, "r:gz") as archive:
        return {m.name: archive.extractfile(m).read() for m in archive if m.isfile()}


def test_the_copy_says_the_new_answers_and_keeps_every_trained_component(tmp_path):
    old = members(MODEL)
    metadata = json.loads(old["metadata.json"])
    domain = metadata["domain"]
    domain["responses"]["utter_faq/iso_certifies"][0]["text"] = "**No (edited).**"
    [selector] = [name for name in old if name.endswith(".responses.json")]
    answers = json.loads(old[selector])
    answers["utter_faq/iso_certifies"][0]["text"] = "**No (edited).**"
    target = tmp_path / "edited.tar.gz"
    with_answers(MODEL, target, domain, answers)

    new = members(target)
    assert archive_responses(target)["utter_faq/iso_certifies"][0]["text"] == "**No (edited).**"
    assert json.loads(new[selector]) == answers
    written = json.loads(new["metadata.json"])
    assert written["model_id"] != metadata["model_id"]
    assert {k: v for k, v in written.items() if k not in ("model_id", "trained_at")} == {
        k: v for k, v in metadata.items() if k not in ("model_id", "trained_at")
    }
    untouched = set(old) - {"metadata.json", selector}
    assert untouched and all(new[name] == old[name] for name in untouched)
    assert not list(tmp_path.glob(".*partial"))


def test_an_archive_without_metadata_has_no_readable_answers(tmp_path):
    path = tmp_path / "not-a-model.tar.gz"
    with tarfile.open(path, "w:gz"):
        pass
    with pytest.raises(AnswersUnreadable, match="not a Rasa 3 model"):
        archive_responses(path)
