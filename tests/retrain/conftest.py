"""Registry and job fixtures: a console database and model registry in a temporary folder."""

from __future__ import annotations

import copy
import io
import json
import tarfile
from pathlib import Path

import pytest

from console.settings import Settings
from console.tables import Database

REPORT = {
    "held_out": {
        "examples": 20,
        "accuracy": 0.97,
        "per_intent": {
            "faq/who_certifies": {"precision": 1.0, "recall": 0.9, "f1": 0.95, "support": 10},
            "greet": {"precision": 0.9, "recall": 1.0, "f1": 0.95, "support": 10},
        },
    },
    "clinc150": {"queries": 5500, "certification_answer_rate": 0.002},
    "stories": {"stories": 11, "failed": 0, "action_accuracy": 1.0},
}


def report(accuracy: float = 0.97, off_topic: float = 0.002, **f1: float) -> dict:
    """A report like certbot/tools/evaluate.py writes, with these figures."""
    result = copy.deepcopy(REPORT)
    result["held_out"]["accuracy"] = accuracy
    result["clinc150"]["certification_answer_rate"] = off_topic
    for intent, score in f1.items():
        result["held_out"]["per_intent"][intent.replace("__", "/")]["f1"] = score
    return result


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    project = tmp_path / "project"
    (project / "data" / "nlu").mkdir(parents=True)
    (project / "domain.yml").write_text("version: '3.1'\n")
    (project / "config.yml").write_text("recipe: default.v1\n")
    (project / "data" / "nlu" / "faq.yml").write_text("version: '3.1'\nnlu: []\n")
    return Settings(
        db_url=f"sqlite:///{tmp_path / 'console.db'}",
        project=project,
        registry=tmp_path / "registry",
        keep_models=2,
        model_pull_token="pull-token",
    )


@pytest.fixture
def db(settings: Settings) -> Database:
    return Database(settings.db_url)


def model_file(folder: Path, content: bytes, responses: dict | None = None) -> Path:
    """A small model archive: `content` and a metadata.json with these answers (none).

    The registry stores its bytes; the gate reads the answers for their links.
    """
    path = folder / f"m-{content.hex()[:12]}.tar.gz"
    metadata = json.dumps({"domain": {"responses": responses or {}}}).encode()
    with tarfile.open(path, "w:gz") as archive:
        for name, data in (("metadata.json", metadata), ("content", content)):
            member = tarfile.TarInfo(name)
            member.size = len(data)
            archive.addfile(member, io.BytesIO(data))
    return path


def write_report(path: Path, data: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path
