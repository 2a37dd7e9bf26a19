"""A retraining run's steps with real Rasa commands: validation runs beside training."""

from __future__ import annotations

import pytest

from console.models import Database, TrainingJob
from console.retrain import jobs, pipeline
from console.retrain.jobs import Progress
from console.settings import Settings
from tests.console.conftest import copy_inputs

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
    assert "Your Rasa model is trained" not in log
    assert not list(settings.registry.rglob("*.tar.gz"))
