"""The shape of the training inputs: answer texts aside, any change is a change."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from retrain.shape import importer_for, project_shape, shape_of
from tests.servers import ROOT

# Runs Rasa's importer over copies of the project.
pytestmark = pytest.mark.integration

ANSWER = "**No.** ISO develops and publishes standards, but it does not certify"


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("shape")
    for name in ("domain.yml", "config.yml"):
        shutil.copyfile(ROOT / name, root / name)
    shutil.copytree(ROOT / "data", root / "data")
    return root


@pytest.fixture(scope="module")
def original(project) -> str:
    return project_shape(project, project / "config.yml")


def changed(project: Path, name: str, old: str, new: str) -> str:
    """The shape with one replacement in one file (the file is restored afterwards)."""
    path = project / name
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    try:
        return project_shape(project, project / "config.yml")
    finally:
        path.write_text(text)


def test_editing_answer_texts_and_buttons_keeps_the_shape(project, original):
    assert original is not None
    assert changed(project, "domain.yml", ANSWER, ANSWER.replace("No.", "No, never.")) == original
    assert (
        changed(project, "domain.yml", "title: Who issues ISO certificates?", "title: Who does?")
        == original
    )


@pytest.mark.parametrize(
    ("name", "old", "new"),
    [
        (
            "data/nlu/faq.yml",
            "    - does iso certify companies\n",
            "    - does iso certify firms\n",
        ),
        ("domain.yml", "  utter_faq/iso_certifies:\n", "  utter_faq/iso_certifies_now:\n"),
        ("config.yml", "epochs: 60", "epochs: 61"),
    ],
    ids=["an example", "an answer's name", "the config"],
)
def test_anything_else_changes_the_shape(project, original, name, old, new):
    assert changed(project, name, old, new) != original


def test_unreadable_inputs_have_no_shape_and_say_why(tmp_path, caplog):
    (tmp_path / "domain.yml").write_text("responses: [unclosed\n")
    (tmp_path / "config.yml").write_text("recipe: default.v1\n")
    (tmp_path / "data").mkdir()
    assert project_shape(tmp_path, tmp_path / "config.yml") is None
    assert "cannot be read" in caplog.text and "train in full" in caplog.text


def test_the_shape_leaves_the_importers_domain_whole(project):
    importer = importer_for(project, project / "config.yml")
    shape_of(importer, project / "config.yml")
    assert importer.get_domain().as_dict()["responses"]  # the answers the copy will say
