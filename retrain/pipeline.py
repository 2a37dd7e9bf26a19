"""One retraining run: export, validate, train, evaluate, gate, activate.

Everything happens in a temporary copy of the project; the live model and the project's data
files change only when the new model goes live (data files are replaced atomically). A model
whose answers differ from the live model's stops before activation, awaiting an admin's
approval of those answers (retrain/answers.py).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from certbot.nlu.sentence_encoder import VECTOR_DIR, VECTOR_STORE_ENV
from certbot.tools.evaluate import warm_up
from certbot.tools.parse_helper import ParseHelper
from console.records import standing_annotations
from console.settings import Settings
from console.tables import Database, TrainedModel, TrainingJob, audit
from retrain import answers, links, registry
from retrain.dataset import (
    HELD_OUT,
    REVIEWED,
    plan_export,
    replace_atomically,
    training_data,
    write_export,
)
from retrain.gate import Verdict
from retrain.jobs import JobCancelled, Progress
from retrain.shape import project_shape

RASA = str(Path(sys.executable).parent / "rasa")
FINETUNE_EPOCH_FRACTION = 0.5
# Lines of a failed background check's output shown in the job's log.
CHECK_LOG_LINES = 30
QUIET = {"RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONWARNINGS": "ignore"}


class StepFailed(Exception):
    """A stage failed; the message says why (shown in the console and by `make retrain`)."""


@dataclass
class Outcome:
    """How a run ended: live, awaiting (an admin's approval of its answers) or rejected."""

    status: str
    model_id: int
    verdict: Verdict


def working_copy(settings: Settings, into: Path) -> Path:
    """Copy domain, data, reviewed file, held-out set and training config into `into`.

    Returns the config's path.
    """
    project = settings.project
    shutil.copyfile(project / "domain.yml", into / "domain.yml")
    shutil.copytree(project / "data", into / "data")
    reviewed = [REVIEWED] if (project / REVIEWED).exists() else []
    for name in (HELD_OUT, *reviewed):
        (into / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(project / name, into / name)
    config = into / "config.yml"
    shutil.copyfile(settings.training_config, config)
    return config


def run_command(
    args: list[str],
    progress: Progress,
    env: dict[str, str] | None = None,
    beside: Check | None = None,
) -> None:
    """Run a command, streaming its output (lines and tqdm updates) to `progress`.

    With `beside`, a check running at the same time: when it fails, the command is killed
    at once and the check's failure is the step's.
    """
    process = subprocess.Popen(
        args,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, **QUIET, **(env or {})},
    )
    if beside is not None:
        beside.stop_on_failure(process)
    buffer = b""
    try:
        # stdout=PIPE, buffered (Popen's default bufsize): an io.BufferedReader, with read1.
        assert isinstance(process.stdout, io.BufferedReader)
        while chunk := process.stdout.read1(4096):
            buffer += chunk
            *lines, buffer = buffer.replace(b"\r", b"\n").split(b"\n")
            for line in lines:
                progress.line(line.decode(errors="replace"))
        progress.line(buffer.decode(errors="replace"))
    finally:
        if process.poll() is None:
            process.kill()
        code = process.wait()
    if beside is not None:
        beside.outcome(progress)
    if code != 0:
        raise StepFailed(f"{Path(args[0]).name} {args[1]} failed (exit code {code})")


class Check:
    """A command run in the background beside a step (its output kept in a file)."""

    def __init__(self, name: str, args: list[str], log: Path) -> None:
        """Start `args` (called `name` in messages), writing its output to `log`."""
        self.name = name
        with log.open("wb") as output:
            self.process = subprocess.Popen(
                args, stdout=output, stderr=subprocess.STDOUT, env={**os.environ, **QUIET}
            )
        self.log = log

    def __enter__(self) -> Check:
        """The running check."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Stop the command if it still runs (the step failed or was cancelled)."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def failed(self) -> bool:
        """True once the command has ended with an error."""
        return self.process.poll() not in (None, 0)

    def stop_on_failure(self, other: subprocess.Popen) -> None:
        """Kill `other` as soon as this command ends with an error (from a watching thread)."""

        def watch() -> None:
            if self.process.wait() != 0 and other.poll() is None:
                other.kill()

        threading.Thread(target=watch, name=f"watching {self.name}", daemon=True).start()

    def outcome(self, progress: Progress) -> None:
        """Wait for the command; StepFailed, with its output in the log, when it failed."""
        code = self.process.wait()
        if code != 0:
            output = self.log.read_text(encoding="utf-8", errors="replace").splitlines()
            for line in output[-CHECK_LOG_LINES:]:
                progress.line(line)
            raise StepFailed(f"{self.name} failed (exit code {code})")


def export(db: Database, settings: Settings, work: Path, progress: Progress) -> Any:
    """Write the standing annotations into the working copy's data files; return the plan."""
    progress.stage("export")
    with db.session() as session:
        annotations = standing_annotations(session)
        plan = plan_export(work, annotations, links.allowed_domains(settings))
    summary = plan.as_dict()
    progress.save(plan=json.dumps(summary))
    for name in ("added", "duplicates", "conflicts", "rejected", "removed", "new_faqs"):
        progress.line(f"{name}: {len(summary.get(name) or [])}")
    write_export(work, plan)
    return plan


def can_finetune(plan: Any, live: TrainedModel | None, settings: Settings, work: Path) -> bool:
    """Finetune the live model when no intent or FAQ is added and config/domain are unchanged."""
    return (
        settings.finetune
        and live is not None
        and live.on_disk
        and not plan.adds_intent
        and live.setup_fingerprint == registry.setup_fingerprint(work, work / "config.yml")
    )


def train(
    work: Path, out: Path, progress: Progress, base: Path | None, vectors: Path, check: Check
) -> tuple[Path, bool]:
    """Finetune `base` (if given) or train in full into `out`; (model file, finetuned?).

    Rasa refuses to finetune when the domain's dialogue-relevant keys changed since `base`
    was trained: then (or when finetuning fails otherwise) a full training runs. Sentence
    vectors are kept in `vectors`, so only new examples are encoded. The data's validation
    `check` runs meanwhile (so Rasa's own is skipped); when it fails, training stops.
    """
    progress.stage("train")
    env = {VECTOR_STORE_ENV: str(vectors)}
    args = [
        RASA, "train", "--config", str(work / "config.yml"), "--domain", str(work / "domain.yml"),
        "--data", *map(str, training_data(work)), "--out", str(out),
        "--fixed-model-name", "candidate", "--skip-validation",
    ]  # fmt: skip
    finetuned = base is not None
    if base is not None:
        progress.line(f"finetuning the live model (epoch fraction {FINETUNE_EPOCH_FRACTION})")
        try:
            fraction = str(FINETUNE_EPOCH_FRACTION)
            finetune = [*args, "--finetune", str(base), "--epoch-fraction", fraction]
            run_command(finetune, progress, env, check)
        except StepFailed as error:
            if check.failed():
                raise
            progress.line(f"finetuning failed ({error}): training in full instead")
            finetuned = False
    if not finetuned:
        run_command(args, progress, env, check)
    model = out / "candidate.tar.gz"
    if not model.exists():
        raise StepFailed("training finished without writing a model")
    return model, finetuned


def evaluate(
    settings: Settings, model: Path, progress: Progress, helper: ParseHelper
) -> dict[str, Any]:
    """The model's report (registry.evaluate_model), saying so in the job's log."""
    progress.line(f"evaluating {model.name}")
    return registry.evaluate_model(settings, model, helper)


def sync_back(work: Path, project: Path) -> list[str]:
    """Replace the project's reviewed file by the working copy's (the only file a run writes).

    The tracked data files are never written: a `git pull` during the run stays as pulled.
    """
    source, target = work / REVIEWED, project / REVIEWED
    if not source.exists() or (target.exists() and target.read_bytes() == source.read_bytes()):
        return []
    replace_atomically(target, source.read_text(encoding="utf-8"))
    return [str(REVIEWED)]


def run(db: Database, settings: Settings, job_id: int, progress: Progress) -> Outcome:
    """The whole run for job `job_id`; StepFailed (or OSError) when a stage fails."""
    with (
        tempfile.TemporaryDirectory(prefix="certbot-retrain-") as temporary,
        # A second process parsing evaluation messages, warming up while the model trains.
        ParseHelper(settings.project / VECTOR_DIR) as helper,
    ):
        work = Path(temporary) / "project"
        work.mkdir()
        config = working_copy(settings, work)
        plan = export(db, settings, work, progress)

        progress.stage("validate")
        with db.session() as session:
            live = registry.live_model(session)
            base = registry.model_path(settings, live) if live else None
            finetune = can_finetune(plan, live, settings, work)
        with Check(
            "rasa data validate",
            [RASA, "data", "validate", "--fail-on-warnings", "--config", str(config),
             "--domain", str(work / "domain.yml"), "--data", *map(str, training_data(work))],
            Path(temporary) / "validate.log",
        ) as validation:  # fmt: skip
            progress.line("validating the data while training")
            # Rasa's imports and the sentence encoder, loaded for the evaluation meanwhile.
            warming = threading.Thread(target=warm_up, name="evaluation warm-up", daemon=True)
            warming.start()
            started = time.monotonic()
            vectors = settings.project / VECTOR_DIR
            model, finetune = train(
                work, Path(temporary) / "out", progress, base if finetune else None, vectors,
                validation,
            )  # fmt: skip
        seconds = time.monotonic() - started

        trained = Trained(model, finetune, seconds, work, config)
        progress.stage("evaluate")
        warming.join()
        try:
            report = evaluate(settings, model, progress, helper)
            live_report = live_report_of(db, settings, progress, helper)
        except JobCancelled:
            raise
        except Exception as error:  # any Rasa error: the model is kept as "failed"
            reason = f"evaluation failed: {error!r}"
            add_model(db, settings, job_id, trained, "failed", {}, [reason])
            raise StepFailed(reason) from error

        progress.stage("gate")
        verdict = registry.gate(settings, model, report, live_report)
        for reason in verdict.reasons or ["not worse than the live model: passed"]:
            progress.line(f"gate: {reason}")
        status = "candidate" if verdict.passed else "rejected"
        report = {**report, "gate": verdict.as_dict()}
        model_id = add_model(db, settings, job_id, trained, status, report, verdict.reasons)
        if not verdict.passed:
            return Outcome("rejected", model_id, verdict)

        with db.session() as session:
            changes = answers.changes_for(session, settings, session.get(TrainedModel, model_id))
        if changes.entries:
            return await_approval(db, settings, job_id, Outcome("awaiting", model_id, verdict),
                                  changes, (work, plan.base_digest), progress)  # fmt: skip

        progress.stage("activate")
        with db.session() as session:
            job = session.get(TrainingJob, job_id)
            answers.activate(session, settings, model_id, job.created_by)
            changed = sync_back(work, settings.project)
            audit(session, job.created_by, "training data updated", ", ".join(changed))
        progress.line(f"live: model {model_id}; data files updated: {', '.join(changed) or 'none'}")
        return Outcome("live", model_id, verdict)


def await_approval(
    db: Database,
    settings: Settings,
    job_id: int,
    outcome: Outcome,
    changes: answers.AnswerChanges,
    export: tuple[Path, str],
    progress: Progress,
) -> Outcome:
    """Stop before activation: the model's answer changes need an admin's approval.

    `export` is the working copy and the digest of the reviewed.yml it was exported over:
    the exported file is kept with the model and replaces the project's when approved.
    """
    progress.stage("approve")
    for entry in changes.entries:
        progress.line(f"answer {entry['kind']}: {entry['response']}")
    with db.session() as session:
        model = session.get(TrainedModel, outcome.model_id)
        model.status = "awaiting"
        answers.keep_training_data(settings, model, *export)
        who = session.get(TrainingJob, job_id).created_by
        names = ", ".join(e["response"] for e in changes.entries)
        audit(session, who, "answers awaiting approval", f"model {model.name}: {names}"[:2000])
    progress.line(
        f"awaiting approval: model {outcome.model_id} changes {len(changes.entries)} answer(s);"
        " an admin approves them on its page before it goes live"
    )
    return outcome


@dataclass(frozen=True)
class Trained:
    """A freshly trained model file and how it was made."""

    path: Path
    finetuned: bool
    seconds: float
    work: Path
    config: Path


def add_model(
    db: Database,
    settings: Settings,
    job_id: int,
    trained: Trained,
    status: str,
    report: dict[str, Any],
    reasons: list[str],
) -> int:
    """Register the trained model with its report and the gate's reasons; its id."""
    with db.session() as session:
        row = registry.register(
            session,
            settings,
            trained.path,
            created_by=session.get(TrainingJob, job_id).created_by,
            fingerprints=(
                registry.data_fingerprint(trained.work, trained.config),
                registry.setup_fingerprint(trained.work, trained.config),
            ),
            status=status,
            finetuned=trained.finetuned,
            training_seconds=trained.seconds,
            shape=project_shape(trained.work, trained.config),
        )
        if report:
            registry.save_report(settings, row, report)
        row.gate_passed = status == "candidate"
        row.gate_reasons = "\n".join(reasons)
        return row.id


def live_report_of(
    db: Database, settings: Settings, progress: Progress, helper: ParseHelper
) -> dict | None:
    """The live model's stored report; evaluated once (and kept) when it has none."""
    with db.session() as session:
        live = registry.live_model(session)
        if live is None:
            return None
        live_id, path = live.id, registry.model_path(settings, live)
        report = registry.report_of(settings, live)
    if report is None and path.exists():
        progress.line("the live model has no report yet: evaluating it once")
        report = evaluate(settings, path, progress, helper)
        with db.session() as session:
            registry.save_report(settings, session.get(TrainedModel, live_id), report)
    return report
