"""A retraining run's steps: the data's validation runs beside training and stops it."""

from __future__ import annotations

import sys

import pytest

from console.settings import Settings
from console.tables import Database, TrainingJob
from retrain import jobs, pipeline
from retrain.jobs import Progress
from tests.console.conftest import copy_inputs

# Runs Rasa's own commands over a copy of the project.
pytestmark = pytest.mark.integration

PROJECT_FILES = ("domain.yml", "config.yml", "data", "tests/nlu/test_nlu.yml")
UNKNOWN_INTENT = """version: "3.1"
nlu:
- intent: mystery_intent
  examples: |
    - a question nobody put in the domain
    - another question nobody put in the domain
"""


def test_data_that_fails_validation_stops_the_training_and_says_why(tmp_path):
    """Rasa trains despite an intent missing from the domain; the validation refuses it."""
    project = copy_inputs(tmp_path / "project", PROJECT_FILES)
    (project / "data" / "nlu" / "mystery.yml").write_text(UNKNOWN_INTENT)
    settings = Settings(
        db_url=f"sqlite:///{tmp_path / 'console.db'}",
        project=project,
        registry=tmp_path / "registry",
    )
    db = Database(settings.db_url)
    job_id = jobs.create(db, "tester")
    with pytest.raises(pipeline.StepFailed, match="rasa data validate failed"):
        pipeline.run(db, settings, job_id, Progress(db, job_id))
    with db.session() as session:
        log = session.get(TrainingJob, job_id).log_tail
    assert "mystery_intent" in log
    assert not list(settings.registry.rglob("*.tar.gz"))


def test_a_failing_check_stops_the_command_beside_it(tmp_path, db, settings):
    finished = tmp_path / "finished"
    command = [
        sys.executable,
        "-c",
        f"import time, pathlib; time.sleep(30); pathlib.Path({str(finished)!r}).touch()",
    ]
    job_id = jobs.create(db, "tester")
    with (
        pipeline.Check(
            "the check",
            [sys.executable, "-c", "import sys; print('no'); sys.exit(3)"],
            tmp_path / "check.log",
        ) as check,
        pytest.raises(pipeline.StepFailed, match=r"the check failed \(exit code 3\)"),
    ):
        pipeline.run_command(command, Progress(db, job_id), beside=check)
    assert not finished.exists()
    with db.session() as session:
        assert session.get(TrainingJob, job_id).log_tail.endswith("no")


def test_a_command_that_fails_beside_a_passing_check_fails_as_itself(tmp_path, db):
    job_id = jobs.create(db, "tester")
    with (
        pipeline.Check(
            "the check", [sys.executable, "-c", "pass"], tmp_path / "check.log"
        ) as check,
        pytest.raises(pipeline.StepFailed, match=r"python.* -c failed \(exit code 4\)"),
    ):
        pipeline.run_command(
            [sys.executable, "-c", "import sys; sys.exit(4)"], Progress(db, job_id), beside=check
        )
