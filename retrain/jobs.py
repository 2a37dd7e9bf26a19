"""Training jobs: one at a time, each a background process group that reports to the database.

The console starts `python -m retrain run --job ID`; the job writes its stage, epoch
progress and log tail to its row (`Progress`). The row's `active` column is unique, so a
second job cannot start while one runs, even from another console process or `make retrain`.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from console.records import InputError
from console.settings import Settings
from console.tables import Database, TrainingJob, audit, utcnow

STAGES = ("export", "validate", "train", "evaluate", "gate", "approve", "activate")
TAIL_LINES = 40
LINE_MAX = 500
SAVE_EVERY_SECONDS = 1.0
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
EPOCHS = re.compile(r"Epochs:\s+\d+%.*?\|\s*(\d+)/(\d+)")
# Rasa's other tqdm bars, noise in the log: "Processed actions: 0it [00:00, ?it/s]",
# "Processed trackers: 100%|██████████| 11/11 [00:00<00:00, 1234.56it/s, # action=44]".
PROGRESS_BAR = re.compile(r"(?:\d+%\|[^|]*\|\s*\d+/\d+|\b\d+it) \[[\d:]+[<,]")
FINAL = ("live", "candidate", "awaiting", "rejected", "failed", "cancelled")


class AlreadyTraining(InputError):
    """A job is running; `job` is its id."""

    def __init__(self, job: int) -> None:
        super().__init__("already training", 409)
        self.job = job


def create(db: Database, who: str) -> int:
    """Add a running job row; AlreadyTraining when another job is active."""
    try:
        with db.session() as session:
            job = TrainingJob(active=1, created_by=who, status="running", stage="queued")
            session.add(job)
            session.flush()
            audit(session, who, "retraining started", f"job {job.id}")
            return job.id
    except IntegrityError:
        with db.session() as session:
            running = session.execute(
                select(TrainingJob.id).where(TrainingJob.active == 1)
            ).scalar_one_or_none()
        raise AlreadyTraining(running or 0) from None


def log_file(settings: Settings, job_id: int) -> Path:
    """Where a job process's own output goes (shown when it dies without reporting)."""
    return settings.registry / "jobs" / f"{job_id}.log"


def spawn(db: Database, settings: Settings, who: str) -> int:
    """Create a job and start its process in a new process group; return the job id."""
    job_id = create(db, who)
    path = log_file(settings, job_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **settings.as_env()}
    with path.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "retrain", "run", "--job", str(job_id)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    with db.session() as session:
        session.get(TrainingJob, job_id).pid = process.pid
    threading.Thread(target=reap, args=(db, settings, job_id, process), daemon=True).start()
    return job_id


def reap(db: Database, settings: Settings, job_id: int, process: subprocess.Popen) -> None:
    """Wait for a job process; if it died without finishing its row, mark the job failed."""
    code = process.wait()
    tail = log_file(settings, job_id).read_text(errors="replace").splitlines()[-TAIL_LINES:]
    finish_if_running(
        db, job_id, f"the training process ended unexpectedly (exit code {code})", tail
    )


def finish_if_running(db: Database, job_id: int, error: str, tail: list[str] | None = None) -> bool:
    """Mark a still-running job failed with `error`; False if it had already finished."""
    with db.session() as session:
        job = session.get(TrainingJob, job_id)
        if job is None or job.status != "running":
            return False
        job.status, job.error, job.active, job.finished_at = "failed", error, None, utcnow()
        if tail:
            job.log_tail = "\n".join([*job.log_tail.splitlines(), *tail][-TAIL_LINES:])
        return True


def cancel(db: Database, job_id: int, who: str) -> None:
    """Stop a running job: kill its process group, mark it cancelled (nothing goes live)."""
    with db.session() as session:
        job = session.get(TrainingJob, job_id)
        if job is None:
            raise InputError("no training job with this id", 404)
        if job.status != "running":
            raise InputError(f"this job is not running (it is {job.status})", 409)
        pid = job.pid
        job.status, job.active, job.finished_at = "cancelled", None, utcnow()
        job.error = f"cancelled by {who}"
        audit(session, who, "retraining cancelled", f"job {job_id}")
    # A job the console started leads its own process group: stop it with its children.
    # `make retrain` notices the cancellation at its next progress report and stops itself.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if pid and os.getpgid(pid) == pid:
            os.killpg(pid, signal.SIGKILL)


def alive(pid: int | None) -> bool:
    """True if a process with this id exists."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recover(db: Database) -> list[int]:
    """At start-up: jobs left running by a process that is gone are failed ("interrupted")."""
    with db.session() as session:
        running = session.execute(
            select(TrainingJob).where(TrainingJob.status == "running")
        ).scalars()
        stale = [job.id for job in running if not alive(job.pid)]
    for job_id in stale:
        finish_if_running(db, job_id, "interrupted: the console or the training process stopped")
    return stale


def latest(db: Database) -> TrainingJob | None:
    """The newest job, if any."""
    with db.session() as session:
        return session.execute(
            select(TrainingJob).order_by(TrainingJob.id.desc()).limit(1)
        ).scalar_one_or_none()


def job_json(job: TrainingJob) -> dict[str, Any]:
    """A job as JSON."""
    return {
        "id": job.id,
        "status": job.status,
        "stage": job.stage,
        "stages": list(STAGES),
        "epochs_done": job.epochs_done,
        "epochs_total": job.epochs_total,
        "log_tail": job.log_tail.splitlines(),
        "error": job.error,
        "created_by": job.created_by,
        "created_at": job.created_at.isoformat() if job.created_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "plan": json.loads(job.plan or "{}"),
        "model_id": job.model_id,
    }


class Progress:
    """What a job reports: its stage, epoch progress and last log lines, saved to its row.

    `echo` also prints every line: on the terminal (`make retrain`) or into the job's log
    file (`<registry>/jobs/<id>.log`, for jobs the console starts).
    """

    def __init__(self, db: Database, job_id: int, echo: bool = False) -> None:
        self.db, self.job_id, self.echo = db, job_id, echo
        self.tail: deque[str] = deque(maxlen=TAIL_LINES)
        self.epochs: tuple[int, int] | None = None
        self.saved = 0.0

    def stage(self, name: str) -> None:
        """Enter a stage; fails (JobCancelled) when the job was cancelled meanwhile."""
        self.epochs = None
        self.line(f"== {name}")
        self.save(stage=name)

    def line(self, text: str) -> None:
        """An output line: the epochs bar (saved once a second), other bars (dropped), log lines."""
        text = ANSI.sub("", text).rstrip()[:LINE_MAX]
        if not text:
            return
        match = EPOCHS.search(text)
        if match:
            self.epochs = (int(match.group(1)), int(match.group(2)))
            if time.monotonic() - self.saved >= SAVE_EVERY_SECONDS:
                self.save()
            return
        if PROGRESS_BAR.search(text):
            return
        self.tail.append(text)
        if self.echo:
            print(text, flush=True)
        self.save()

    def save(self, **changes: Any) -> None:
        """Write the progress (and `changes`) to the job's row."""
        self.saved = time.monotonic()
        with self.db.session() as session:
            job = session.get(TrainingJob, self.job_id)
            if job.status != "running":
                raise JobCancelled(job.status)
            job.log_tail = "\n".join(self.tail)
            job.epochs_done, job.epochs_total = self.epochs or (None, None)
            for name, value in changes.items():
                setattr(job, name, value)

    def finish(self, status: str, error: str = "", model_id: int | None = None) -> None:
        """End the job with its outcome (one of FINAL)."""
        self.save(status=status, error=error, model_id=model_id, active=None, finished_at=utcnow())


class JobCancelled(Exception):
    """The job's row is no longer running (cancelled or failed by someone else)."""
