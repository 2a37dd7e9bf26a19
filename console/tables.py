"""The console's own database (SQLAlchemy 1.4): staff accounts, sessions and records."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, declarative_base, sessionmaker

# SQLAlchemy 1.4 ships no type hints (its mypy plugin needs sqlalchemy2-stubs), so mypy
# sees declarative_base() as a plain value, not a class: declared Any, models may derive from it.
Base: Any = declarative_base()
ROLES = ("viewer", "reviewer", "admin")
ANNOTATION_ACTIONS = ("assign_intent", "out_of_scope", "new_faq")
CONTACT_STATUSES = ("open", "done")
EMAIL_KEY_MAX = 64
EMAIL_ERROR_MAX = 500
MODEL_STATUSES = ("live", "candidate", "awaiting", "rejected", "failed", "retired")
JOB_STATUSES = ("running", "live", "candidate", "awaiting", "rejected", "failed", "cancelled")
NOTE_MAX = 2000
ANSWER_MAX = 1000


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(timezone.utc)


class User(Base):
    """A staff account."""

    __tablename__ = "users"
    id = sa.Column(sa.Integer, primary_key=True)
    username = sa.Column(sa.String(40), unique=True, nullable=False)
    password_hash = sa.Column(sa.String(255), nullable=False)
    role = sa.Column(sa.String(10), nullable=False)
    created = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
    disabled = sa.Column(sa.Boolean, nullable=False, default=False)


class StaffSession(Base):
    """A signed-in browser: only the token's hash is stored."""

    __tablename__ = "sessions"
    token_hash = sa.Column(sa.String(64), primary_key=True)
    user_id = sa.Column(sa.Integer, sa.ForeignKey("users.id"), nullable=False, index=True)
    expires = sa.Column(sa.DateTime(timezone=True), nullable=False)
    csrf_token = sa.Column(sa.String(64), nullable=False)


class Review(Base):
    """Staff tags, note and reviewed mark of one conversation."""

    __tablename__ = "reviews"
    conversation_id = sa.Column(sa.String(255), primary_key=True)
    reviewed_by = sa.Column(sa.String(40))
    reviewed_at = sa.Column(sa.DateTime(timezone=True))
    tags = sa.Column(sa.String(1000), nullable=False, default="")
    note = sa.Column(sa.String(NOTE_MAX), nullable=False, default="")


class Annotation(Base):
    """A correction of one visitor message, undoable."""

    __tablename__ = "annotations"
    id = sa.Column(sa.Integer, primary_key=True)
    conversation_id = sa.Column(sa.String(255), nullable=False, index=True)
    event_index = sa.Column(sa.Integer, nullable=False)
    event_timestamp = sa.Column(sa.Float, nullable=False)
    text = sa.Column(sa.Text, nullable=False)
    predicted_intent = sa.Column(sa.String(255))
    action = sa.Column(sa.String(20), nullable=False)
    intent = sa.Column(sa.String(255))
    faq_name = sa.Column(sa.String(41))
    faq_answer = sa.Column(sa.String(ANSWER_MAX))
    created_by = sa.Column(sa.String(40), nullable=False)
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
    undone_by = sa.Column(sa.String(40))
    undone_at = sa.Column(sa.DateTime(timezone=True))


class ContactStatus(Base):
    """Follow-up status of a conversation's contact request (open unless a row says done)."""

    __tablename__ = "contact_status"
    conversation_id = sa.Column(sa.String(255), primary_key=True)
    status = sa.Column(sa.String(10), nullable=False)
    closed_by = sa.Column(sa.String(40))
    closed_at = sa.Column(sa.DateTime(timezone=True))


class ContactEmail(Base):
    """The outbox row of one contact request's email to staff, kept once sent.

    Keyed by conversation and the request's `submitted_at`; holds no visitor data (the
    message is composed from the conversation when sent). `claimed_by` is the token of the
    console sending it now, until `claimed_until`; pending and failed rows are sent once
    `next_attempt_at` has passed.
    """

    __tablename__ = "contact_emails"
    conversation_id = sa.Column(sa.String(255), primary_key=True)
    submitted_at = sa.Column(sa.String(EMAIL_KEY_MAX), primary_key=True)
    state = sa.Column(sa.String(10), nullable=False, default="pending")
    attempts = sa.Column(sa.Integer, nullable=False, default=0)
    last_error = sa.Column(sa.String(EMAIL_ERROR_MAX))
    next_attempt_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
    claimed_by = sa.Column(sa.String(32))
    claimed_until = sa.Column(sa.DateTime(timezone=True))
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
    sent_at = sa.Column(sa.DateTime(timezone=True))


class AuditEntry(Base):
    """Who did what, when."""

    __tablename__ = "audit_log"
    id = sa.Column(sa.Integer, primary_key=True)
    who = sa.Column(sa.String(40), nullable=False)
    at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
    what = sa.Column(sa.String(60), nullable=False)
    details = sa.Column(sa.Text, nullable=False, default="")


class TrainedModel(Base):
    """A model in the registry; its file and evaluation report live in models/registry/<name>/."""

    __tablename__ = "trained_models"
    id = sa.Column(sa.Integer, primary_key=True)
    name = sa.Column(sa.String(64), unique=True, nullable=False)
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
    created_by = sa.Column(sa.String(40), nullable=False)
    data_fingerprint = sa.Column(sa.String(64), nullable=False)
    setup_fingerprint = sa.Column(sa.String(64), nullable=False)
    status = sa.Column(sa.String(10), nullable=False)
    accuracy = sa.Column(sa.Float)
    off_topic_rate = sa.Column(sa.Float)
    finetuned = sa.Column(sa.Boolean, nullable=False, default=False)
    training_seconds = sa.Column(sa.Float)
    gate_passed = sa.Column(sa.Boolean)
    gate_reasons = sa.Column(sa.Text, nullable=False, default="")
    activated_at = sa.Column(sa.DateTime(timezone=True))
    activated_by = sa.Column(sa.String(40))
    override_reason = sa.Column(sa.String(1000))
    on_disk = sa.Column(sa.Boolean, nullable=False, default=True)


class ModelApproval(Base):
    """An admin's approval of the answer changes a model brings (the exact diff, by digest)."""

    __tablename__ = "model_approvals"
    id = sa.Column(sa.Integer, primary_key=True)
    model_id = sa.Column(sa.Integer, sa.ForeignKey("trained_models.id"), nullable=False, index=True)
    approved_by = sa.Column(sa.String(40), nullable=False)
    approved_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
    against = sa.Column(sa.String(64))
    digest = sa.Column(sa.String(64), nullable=False)
    changes = sa.Column(sa.Text, nullable=False, default="[]")


class TrainingJob(Base):
    """A retraining run; `active` is 1 while it runs (unique: one job at a time), else NULL."""

    __tablename__ = "training_jobs"
    id = sa.Column(sa.Integer, primary_key=True)
    active = sa.Column(sa.Integer, unique=True)
    created_by = sa.Column(sa.String(40), nullable=False)
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
    finished_at = sa.Column(sa.DateTime(timezone=True))
    status = sa.Column(sa.String(10), nullable=False, default="running")
    stage = sa.Column(sa.String(20), nullable=False, default="queued")
    epochs_done = sa.Column(sa.Integer)
    epochs_total = sa.Column(sa.Integer)
    log_tail = sa.Column(sa.Text, nullable=False, default="")
    error = sa.Column(sa.Text, nullable=False, default="")
    pid = sa.Column(sa.Integer)
    plan = sa.Column(sa.Text, nullable=False, default="{}")
    model_id = sa.Column(sa.Integer, sa.ForeignKey("trained_models.id"))


SQLITE_BUSY_SECONDS = 30


def write_ahead_log(connection: Any, _record: Any) -> None:
    """Switch a new SQLite connection to write-ahead logging."""
    connection.execute("PRAGMA journal_mode=WAL")


class Database:
    """Engine and sessions of the console database; tables are created on construction."""

    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        sqlite = parsed.get_backend_name() == "sqlite"
        on_disk = sqlite and parsed.database not in (None, "", ":memory:")
        if on_disk:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # SQLite: wait for a writer instead of failing at once with "database is locked", and
        # (on disk) write-ahead logging, so that pages are read while a retraining job writes.
        options = {"connect_args": {"timeout": SQLITE_BUSY_SECONDS}} if sqlite else {}
        self.engine = sa.create_engine(url, future=True, **options)
        if on_disk:
            sa.event.listen(self.engine, "connect", write_ahead_log)
        Base.metadata.create_all(self.engine)
        self._sessions = sessionmaker(self.engine, future=True, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction: committed when the block ends, rolled back on error."""
        with self._sessions.begin() as session:
            yield session


def audit(session: Session, who: str, what: str, details: str = "") -> None:
    """Add an audit-log entry in the caller's transaction."""
    session.add(AuditEntry(who=who, what=what, details=details))


def as_utc(moment: datetime) -> datetime:
    """`moment` as aware UTC (SQLite hands back naive datetimes)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
