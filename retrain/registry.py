"""The model registry: every trained model, its report and status; activation and pruning.

Files live in `<registry>/<name>/model.tar.gz` with `report.json` beside them; rows in the
console database (console.tables.TrainedModel). Only activation changes which model is live.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from certbot.nlu.sentence_encoder import VECTOR_DIR, shared_encoder
from certbot.tools.evaluate import HELD_OUT_FILE, STORIES_DIR, evaluate
from certbot.tools.parse_helper import ParseHelper
from console.records import InputError
from console.settings import Settings
from console.tables import Database, ModelApproval, TrainedModel, as_utc, audit, utcnow
from retrain import links
from retrain.archive import AnswersUnreadable, archive_responses
from retrain.dataset import training_data
from retrain.gate import Verdict, judge, tolerances
from retrain.shape import SHAPE_FILE, project_shape

MODEL_FILE = "model.tar.gz"
REPORT_FILE = "report.json"
BOOTSTRAP_MODEL = Path("models/certbot.tar.gz")
BOOTSTRAP_REPORT = Path("var/results/eval/report.json")
REASON_MAX = 1000


def fingerprint(files: dict[str, Path]) -> str:
    """SHA-256 of named files' names and contents."""
    digest = hashlib.sha256()
    for name, path in sorted(files.items()):
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def data_fingerprint(project: Path, config: Path) -> str:
    """Fingerprint of the training inputs: config, domain.yml, data/*.yml, the reviewed file."""
    files = {}
    for source in training_data(project):
        paths = source.rglob("*.yml") if source.is_dir() else [source]
        files.update({str(path.relative_to(project)): path for path in paths})
    return fingerprint({**files, "config.yml": config, "domain.yml": project / "domain.yml"})


def setup_fingerprint(project: Path, config: Path) -> str:
    """Fingerprint of config and domain: finetuning needs both unchanged."""
    return fingerprint({"config.yml": config, "domain.yml": project / "domain.yml"})


def new_name() -> str:
    """A unique, sortable model name: UTC time and a random suffix."""
    return datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3)


def folder(settings: Settings, model: TrainedModel) -> Path:
    """Where the model's file and report are kept."""
    return settings.registry / model.name


def model_path(settings: Settings, model: TrainedModel) -> Path:
    """The model's tar.gz file."""
    return folder(settings, model) / MODEL_FILE


def report_of(settings: Settings, model: TrainedModel) -> dict[str, Any] | None:
    """The model's evaluation report, None when it has none (yet)."""
    path = folder(settings, model) / REPORT_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def save_report(settings: Settings, model: TrainedModel, report: dict[str, Any]) -> None:
    """Keep the report with the model and copy its headline figures to the row."""
    path = folder(settings, model) / REPORT_FILE
    path.write_text(json.dumps(report, indent=2), encoding="utf-8")
    model.accuracy = report["held_out"]["accuracy"]
    model.off_topic_rate = report["clinc150"]["certification_answer_rate"]


def register(
    session: Session,
    settings: Settings,
    source: Path,
    *,
    created_by: str,
    fingerprints: tuple[str, str],
    status: str,
    finetuned: bool = False,
    training_seconds: float | None = None,
    shape: str | None = None,
) -> TrainedModel:
    """Copy a trained model file into the registry and add its row.

    `shape` (retrain/shape.py), kept beside the file, lets a later edit of only
    answer texts reuse this model.
    """
    model = TrainedModel(
        name=new_name(),
        created_by=created_by,
        data_fingerprint=fingerprints[0],
        setup_fingerprint=fingerprints[1],
        status=status,
        finetuned=finetuned,
        training_seconds=training_seconds,
    )
    target = folder(settings, model)
    target.mkdir(parents=True)
    try:
        shutil.copyfile(source, target / MODEL_FILE)
        if shape is not None:
            (target / SHAPE_FILE).write_text(shape, encoding="utf-8")
    except OSError:  # e.g. a full disk: leave no partial copy behind
        shutil.rmtree(target, ignore_errors=True)
        raise
    session.add(model)
    session.flush()
    return model


def live_model(session: Session) -> TrainedModel | None:
    """The model the bot serves, if any."""
    return session.execute(
        select(TrainedModel).where(TrainedModel.status == "live")
    ).scalar_one_or_none()


def all_models(session: Session) -> list[TrainedModel]:
    """Every registered model, newest first."""
    return list(session.execute(select(TrainedModel).order_by(TrainedModel.id.desc())).scalars())


def activate(
    session: Session, settings: Settings, model_id: int, who: str, reason: str = ""
) -> TrainedModel:
    """Make a model live (the bots pull it); the previous live one becomes retired.

    A model the gate did not pass needs a written reason (kept, and in the audit log).
    """
    model = session.get(TrainedModel, model_id)
    if model is None:
        raise InputError("no model with this id", 404)
    if model.status == "live":
        raise InputError("this model is already live", 409)
    if model.status == "failed" or not model.on_disk or not model_path(settings, model).exists():
        raise InputError("this model has no usable file", 409)
    reason = reason.strip()
    if len(reason) > REASON_MAX:
        raise InputError(f"the reason has {len(reason)} characters; at most {REASON_MAX}", 413)
    if model.gate_passed is False and not reason:
        raise InputError("this model did not pass the gate: write why you activate it anyway")
    previous = live_model(session)
    if previous is not None:
        previous.status = "retired"
        session.flush()
    model.status = "live"
    model.activated_at = utcnow()
    model.activated_by = who
    model.override_reason = reason or None
    details = f"model {model.name}" + (f"; reason: {reason}" if reason else "")
    audit(session, who, "model activated", details)
    prune(session, settings)
    return model


def previous_live(session: Session) -> TrainedModel | None:
    """The most recently activated model that is no longer live (the rollback target)."""
    return session.execute(
        select(TrainedModel)
        .where(TrainedModel.status == "retired", TrainedModel.activated_at.is_not(None))
        .order_by(TrainedModel.activated_at.desc())
        .limit(1)
    ).scalar_one_or_none()


def prune(session: Session, settings: Settings) -> list[str]:
    """Delete the files of all but the newest `keep_models`, never the live or previous live."""
    protected = {m.id for m in (live_model(session), previous_live(session)) if m is not None}
    on_disk = [m for m in all_models(session) if m.on_disk and m.id not in protected]
    removed = []
    for model in on_disk[settings.keep_models :]:
        shutil.rmtree(folder(settings, model), ignore_errors=True)
        model.on_disk = False
        removed.append(model.name)
    return removed


def bootstrap(db: Database, settings: Settings, model: Path) -> int | None:
    """Register models/certbot.tar.gz (`make train`) and put it through the gate.

    Done when the file was written after every registered model, from other inputs than
    the live model's, if any (so `make train` after a console retrain, trained on the
    same data, registers nothing, and a rejected file is not registered twice). Like a
    console retrain, it goes live only when it passes the gate against the live model;
    otherwise it stays "rejected" with the gate's reasons, and the live model stays. Its
    report is make eval's when that is newer than the file, else it is evaluated here.
    Returns the registered row's id, if any.
    """
    if not model.exists():
        return None
    config = settings.training_config
    fingerprints = (
        data_fingerprint(settings.project, config),
        setup_fingerprint(settings.project, config),
    )
    trained_at = datetime.fromtimestamp(model.stat().st_mtime, timezone.utc)
    with db.session() as session:
        live = live_model(session)
        newest = max((m.created_at for m in all_models(session)), default=None)
        registered = newest is not None and as_utc(newest) >= trained_at
        if registered or (live is not None and live.data_fingerprint == fingerprints[0]):
            return None
        live_report = report_of(settings, live) if live is not None else None
    report = bootstrap_report(settings, model)
    verdict = gate(settings, model, report, live_report)
    shape = project_shape(settings.project, config)
    with db.session() as session:
        row = register(
            session, settings, model, created_by="make train", fingerprints=fingerprints,
            status="candidate" if verdict.passed else "rejected", shape=shape,
        )  # fmt: skip
        save_report(settings, row, {**report, "gate": verdict.as_dict()})
        row.gate_passed = verdict.passed
        row.gate_reasons = "\n".join(verdict.reasons)
        audit(session, "make train", "model registered", f"model {row.name} from {model}")
        if verdict.passed:
            activate(session, settings, row.id, "make train")
        return row.id


def gate(
    settings: Settings, model: Path, report: dict[str, Any], live: dict[str, Any] | None
) -> Verdict:
    """The gate for every model that would go live, however it was trained.

    Its figures against the live model's (retrain/gate.py), and no answer linking
    where answers may not (links.py).
    """
    verdict = judge(report, live, tolerances(settings))
    try:
        responses = archive_responses(model)
    except AnswersUnreadable as error:
        return Verdict(False, [*verdict.reasons, str(error)], verdict.comparison)
    refused = links.response_problems(responses, links.allowed_domains(settings))
    if refused:
        return Verdict(False, [*verdict.reasons, *refused], verdict.comparison)
    return verdict


def bootstrap_report(settings: Settings, model: Path) -> dict[str, Any]:
    """Make eval's report of `model` when it is newer than the file; else evaluated now."""
    saved = settings.project / BOOTSTRAP_REPORT
    if saved.exists() and saved.stat().st_mtime >= model.stat().st_mtime:
        report = json.loads(saved.read_text(encoding="utf-8"))
        if report.get("stories") is not None:
            return report
    return evaluate_model(settings, model)


def evaluate_model(
    settings: Settings, model: Path, helper: ParseHelper | None = None
) -> dict[str, Any]:
    """The model's report, as the gate reads it: held-out NLU, CLINC150, real questions, stories.

    `helper`: a parse helper process already started (certbot/tools/parse_helper.py), if any.
    """
    project = settings.project
    shared_encoder().keep_vectors(project / VECTOR_DIR)
    return evaluate(model, project / HELD_OUT_FILE, project / STORIES_DIR, helper)


def approval_of(session: Session, model: TrainedModel) -> ModelApproval | None:
    """The latest approval of a model's answer changes, if any."""
    return session.execute(
        select(ModelApproval)
        .where(ModelApproval.model_id == model.id)
        .order_by(ModelApproval.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def model_json(model: TrainedModel) -> dict[str, Any]:
    """A registry row as JSON (with its answers' approval when read in a session)."""
    session = object_session(model)
    approval = approval_of(session, model) if session is not None else None
    return {
        "id": model.id,
        "name": model.name,
        "created_at": model.created_at.isoformat() if model.created_at else None,
        "created_by": model.created_by,
        "data_fingerprint": model.data_fingerprint,
        "status": model.status,
        "accuracy": model.accuracy,
        "off_topic_rate": model.off_topic_rate,
        "finetuned": model.finetuned,
        "training_seconds": model.training_seconds,
        "gate_passed": model.gate_passed,
        "gate_reasons": [r for r in model.gate_reasons.split("\n") if r],
        "activated_at": model.activated_at.isoformat() if model.activated_at else None,
        "activated_by": model.activated_by,
        "override_reason": model.override_reason,
        "approved_by": approval.approved_by if approval else None,
        "approved_at": approval.approved_at.isoformat() if approval else None,
        "on_disk": model.on_disk,
    }
