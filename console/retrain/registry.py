"""The model registry: every trained model, its report and status; activation and pruning.

Files live in `<registry>/<name>/model.tar.gz` with `report.json` beside them; rows in the
console database (console.models.TrainedModel). Only activation changes which model is live.
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

from console.models import ModelApproval, TrainedModel, as_utc, audit, utcnow
from console.records import InputError
from console.settings import Settings

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
    """Fingerprint of the training inputs: the config, domain.yml and every data/*.yml file."""
    data = project / "data"
    files = {str(path.relative_to(project)): path for path in data.rglob("*.yml")}
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
) -> TrainedModel:
    """Copy a trained model file into the registry and add its row."""
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


def bootstrap(session: Session, settings: Settings, model: Path) -> TrainedModel | None:
    """Register `model` (models/certbot.tar.gz) as live when it is newer than the registry.

    That is: the registry has no live model, or `make train` wrote the file after every
    registered model was made (so `make train` then `make run` serves what was trained).
    Its report is reused from `make eval` when that is newer than the model; otherwise the
    next retraining job evaluates it.
    """
    if not model.exists():
        return None
    trained_at = datetime.fromtimestamp(model.stat().st_mtime, timezone.utc)
    newest = max((m.created_at for m in all_models(session)), default=None)
    if live_model(session) is not None and newest is not None and as_utc(newest) >= trained_at:
        return None
    config = settings.retrain_config or settings.project / "config.yml"
    row = register(
        session,
        settings,
        model,
        created_by="make train",
        fingerprints=(
            data_fingerprint(settings.project, config),
            setup_fingerprint(settings.project, config),
        ),
        status="candidate",
    )
    report = settings.project / BOOTSTRAP_REPORT
    if report.exists() and report.stat().st_mtime >= model.stat().st_mtime:
        save_report(settings, row, json.loads(report.read_text(encoding="utf-8")))
    audit(session, "make train", "model registered", f"model {row.name} from {model}")
    return activate(session, settings, row.id, "make train")


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
