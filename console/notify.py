"""Staff hear of contact requests: an email for each, sent through an outbox.

Every `contact_poll` seconds each console process (`Notifier.run`, started with the app)
reads the completed contact requests from the tracker store and counts the open ones for
the navigation. With SMTP configured it also adds the open requests not yet in the outbox
(`ContactEmail`: one row per conversation id and `submitted_at`) and sends the rows that
are due. A row is claimed with one UPDATE before its email is sent, so consoles sharing a
database never both send it; a failure leaves it `failed` with its error, retried after
`contact_retry` seconds, then twice as long each time up to an hour, until it is sent.
The one way to a second email: the console database fails after the mail server took the
message and before the row is marked sent (another try follows once the claim expires).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import smtplib
import ssl
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from console.records import contact_statuses
from console.services import Services
from console.settings import Smtp, is_address
from console.summary import CONTACT_SLOT, ContactRequest, Conversation, contact_request
from console.tables import (
    EMAIL_ERROR_MAX,
    EMAIL_KEY_MAX,
    ContactEmail,
    Database,
    as_utc,
    utcnow,
)
from console.tracker import ConversationSource

logger = logging.getLogger(__name__)
Key = tuple[str, str]
SMTP_TIMEOUT = 30
BATCH = 10
# Longer than a batch of BATCH emails takes; a console that dies while sending leaves its
# rows to the others (or to itself once restarted) when its claim expires.
CLAIM = timedelta(minutes=10)
MAX_BACKOFF = timedelta(hours=1)
NAME_MAX = 100


class Notifier:
    """Counts the open contact requests and emails staff about each new one."""

    def __init__(self, services: Services) -> None:
        self.settings, self.db, self.source = services.settings, services.db, services.source
        self.open_contacts: int | None = None

    @property
    def enabled(self) -> bool:
        """True when an SMTP server is configured."""
        return self.settings.smtp is not None

    async def run(self) -> None:
        """Forever: a `tick` every `contact_poll` seconds; a failed tick is logged."""
        while True:
            try:
                await self.tick()
            except Exception:
                logger.exception("contact requests: the round failed; trying again later")
            await asyncio.sleep(self.settings.contact_poll)

    async def tick(self, now: datetime | None = None) -> int:
        """Count the open requests, queue the new ones, send what is due; emails sent."""
        conversations = [c for c in await self.source.all() if c.contact_request is not None]
        with self.db.session() as session:
            statuses = contact_statuses(session)
        still_open = [
            c for c in conversations if c.id not in statuses or statuses[c.id].status == "open"
        ]
        self.open_contacts = len(still_open)
        if not self.enabled:
            return 0
        enqueue(self.db, still_open, now or utcnow())
        return await self.send_due(now)

    async def send_due(self, now: datetime | None = None) -> int:
        """Claim the due rows (BATCH at most), send their emails over one connection."""
        smtp = self.settings.smtp
        if smtp is None:
            return 0
        token, moment = uuid.uuid4().hex, now or utcnow()
        keys = [key for key in due(self.db, moment) if claim(self.db, key, token, moment)]
        messages: list[tuple[Key, EmailMessage]] = []
        for key in keys:
            try:
                request = await find_request(self.source, key)
            except Exception as error:  # the tracker store did not answer: try again later
                reason = f"reading the conversation: {describe(error)}"
                finish(self.db, key, token, reason, moment, self.settings.contact_retry)
                continue
            if request is None:  # deleted since (privacy, retention): nothing to send
                forget(self.db, key, token)
            else:
                messages.append((key, self.compose(smtp, key, request, moment)))
        errors = await asyncio.to_thread(deliver, smtp, [message for _, message in messages])
        for (key, _), failure in zip(messages, errors, strict=True):
            finish(self.db, key, token, failure, now or utcnow(), self.settings.contact_retry)
        return errors.count(None)

    def compose(self, smtp: Smtp, key: Key, request: ContactRequest, now: datetime) -> EmailMessage:
        """The email about one request; headers get the visitor's words as one line only."""
        conversation_id = key[0]
        name = one_line(str(request["name"]))[:NAME_MAX] or "a visitor"
        email = one_line(str(request["email"]))
        message = EmailMessage()
        message["Subject"] = f"Contact request from {name}"
        message["From"] = smtp.sender
        message["To"] = ", ".join(smtp.recipients)
        if is_address(email):
            message["Reply-To"] = email
        message["Date"] = format_datetime(now)
        message["Message-ID"] = message_id(key, smtp.sender)
        lines = [
            "A visitor asked the bot to pass a question to the team.",
            "",
            f"Name: {name}",
            f"Email: {email}",
            f"Submitted: {one_line(str(request['submitted_at']))}",
            f"Agreed to be contacted by email: {'yes' if request['consent'] else 'no'}",
            f"Conversation: {one_line(conversation_id)}",
        ]
        if self.settings.public_url:
            link = f"{self.settings.public_url}/conversations/{quote(conversation_id, safe='')}"
            lines.append(f"Transcript: {link}")
        lines += ["", "Question:", str(request["question"]), ""]
        message.set_content("\n".join(lines))
        return message


def key_of(conversation: Conversation) -> Key:
    """The outbox key of a conversation's (latest) contact request."""
    request = conversation.contact_request or {}
    return conversation.id, str(request.get("submitted_at", ""))[:EMAIL_KEY_MAX]


async def find_request(source: ConversationSource, key: Key) -> ContactRequest | None:
    """The contact request of `key` in its conversation's events; None if gone."""
    conversation_id, submitted_at = key
    found = None
    for event in await source.events(conversation_id):
        if event.get("event") == "slot" and event.get("name") == CONTACT_SLOT:
            request = contact_request(event.get("value"))
            if request and str(request["submitted_at"])[:EMAIL_KEY_MAX] == submitted_at:
                found = request
    return found


def keyed(key: Key) -> ColumnElement:
    """The WHERE clause of the outbox row of `key`."""
    return sa.and_(ContactEmail.conversation_id == key[0], ContactEmail.submitted_at == key[1])


def unclaimed(now: datetime) -> ColumnElement:
    """Rows nobody is sending now."""
    return sa.or_(ContactEmail.claimed_until.is_(None), ContactEmail.claimed_until < now)


def enqueue(db: Database, conversations: Sequence[Conversation], now: datetime) -> int:
    """Add a pending row for each conversation's request not in the outbox; how many."""
    wanted = {key_of(conversation) for conversation in conversations}
    columns = sa.select(ContactEmail.conversation_id, ContactEmail.submitted_at)
    try:
        with db.session() as session:
            new = wanted - {tuple(row) for row in session.execute(columns)}
            session.add_all(
                ContactEmail(
                    conversation_id=conversation_id,
                    submitted_at=submitted_at,
                    state="pending",
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now,
                )
                for conversation_id, submitted_at in sorted(new)
            )
    except IntegrityError:
        return 0  # another console added some at this moment; the next round adds the rest
    return len(new)


def due(db: Database, now: datetime) -> list[Key]:
    """Unsent rows whose time has come and that nobody is sending, the longest waiting first."""
    row = ContactEmail
    query = (
        sa.select(row.conversation_id, row.submitted_at)
        .where(row.state != "sent", row.next_attempt_at <= now, unclaimed(now))
        .order_by(row.next_attempt_at)
        .limit(BATCH)
    )
    with db.session() as session:
        return [(conversation, submitted) for conversation, submitted in session.execute(query)]


def claim(db: Database, key: Key, token: str, now: datetime) -> bool:
    """Take a due row for the sender `token` in one UPDATE (one racer wins); True if taken."""
    row = ContactEmail
    update = (
        sa.update(row)
        .where(keyed(key), row.state != "sent", row.next_attempt_at <= now, unclaimed(now))
        .values(claimed_by=token, claimed_until=now + CLAIM, attempts=row.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    with db.session() as session:
        return session.execute(update).rowcount == 1


def finish(
    db: Database, key: Key, token: str, error: str | None, now: datetime, retry: float
) -> None:
    """Record a claimed row's outcome: sent, or failed with its error and next attempt."""
    row = ContactEmail
    values: dict[str, Any] = {"claimed_by": None, "claimed_until": None}
    with db.session() as session:
        if error is None:
            values.update(state="sent", sent_at=now, last_error=None)
        else:
            attempts = session.scalar(sa.select(row.attempts).where(keyed(key))) or 1
            values.update(
                state="failed", last_error=error, next_attempt_at=now + backoff(attempts, retry)
            )
        update = sa.update(row).where(keyed(key), row.claimed_by == token).values(**values)
        session.execute(update.execution_options(synchronize_session=False))


def forget(db: Database, key: Key, token: str) -> None:
    """Delete a claimed row whose request is no longer in the tracker store."""
    with db.session() as session:
        session.execute(sa.delete(ContactEmail).where(keyed(key), ContactEmail.claimed_by == token))


def retry_failed(db: Database) -> None:
    """Make every failed email due now: a console that starts may have new SMTP settings."""
    with db.session() as session:
        session.execute(
            sa.update(ContactEmail)
            .where(ContactEmail.state == "failed")
            .values(next_attempt_at=utcnow())
            .execution_options(synchronize_session=False)
        )


def backoff(attempts: int, first: float) -> timedelta:
    """The wait after the `attempts`-th failure: `first` seconds, doubling, an hour at most."""
    return min(timedelta(seconds=first * 2 ** min(attempts - 1, 20)), MAX_BACKOFF)


def connect(smtp: Smtp) -> smtplib.SMTP:
    """A connection to the server: TLS as configured (certificate checked), logged in."""
    context = ssl.create_default_context()
    if smtp.tls == "tls":
        client: smtplib.SMTP = smtplib.SMTP_SSL(
            smtp.host, smtp.port, timeout=SMTP_TIMEOUT, context=context
        )
    else:
        client = smtplib.SMTP(smtp.host, smtp.port, timeout=SMTP_TIMEOUT)
    try:
        if smtp.tls == "starttls":
            client.starttls(context=context)  # refuses a server without STARTTLS
        if smtp.username:
            client.login(smtp.username, smtp.password)
    except BaseException:
        client.close()
        raise
    return client


def deliver(smtp: Smtp, messages: Sequence[EmailMessage]) -> list[str | None]:
    """Send the messages over one connection; for each None (sent) or what went wrong."""
    if not messages:
        return []
    try:
        client = connect(smtp)
    except Exception as error:
        return [f"{smtp.host}:{smtp.port}: {describe(error)}"] * len(messages)
    errors: list[str | None] = []
    try:
        for message in messages:
            try:
                refused = client.send_message(
                    message, from_addr=smtp.sender, to_addrs=list(smtp.recipients)
                )
            except Exception as error:
                errors.append(describe(error))
                continue
            if refused:
                logger.warning("contact email: some recipients refused it: %s", refused)
            errors.append(None)
    finally:
        with contextlib.suppress(OSError):
            client.quit()
        client.close()
    return errors


def describe(error: BaseException) -> str:
    """An error on one line for the contacts page: the server's reply, or the exception."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        text = "recipients refused: " + "; ".join(
            f"{recipient} ({code} {reply_text(reply)})"
            for recipient, (code, reply) in error.recipients.items()
        )
    elif isinstance(error, smtplib.SMTPResponseException):
        text = f"{error.smtp_code} {reply_text(error.smtp_error)}"
    else:
        text = f"{type(error).__name__}: {error}"
    return one_line(text)[:EMAIL_ERROR_MAX]


def reply_text(reply: bytes | str) -> str:
    """An SMTP reply as text."""
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def one_line(value: str) -> str:
    """`value` without line breaks or other control characters, spaces collapsed."""
    return " ".join("".join(c if c.isprintable() else " " for c in value).split())


def message_id(key: Key, sender: str) -> str:
    """The same Message-ID for every try of one request's email (lets mailboxes dedupe)."""
    digest = hashlib.sha256("\x00".join(key).encode("utf-8", "replace")).hexdigest()[:32]
    return f"<contact.{digest}@{sender.rpartition('@')[2]}>"


def emails_by_key(session: Session) -> dict[Key, ContactEmail]:
    """Every outbox row by its key."""
    return {
        (row.conversation_id, row.submitted_at): row
        for row in session.scalars(sa.select(ContactEmail))
    }


def email_json(email: ContactEmail | None) -> dict[str, Any]:
    """A request's email for the contacts page and API (state null: not in the outbox)."""
    if email is None:
        return {
            "state": None,
            "attempts": 0,
            "last_error": None,
            "next_attempt_at": None,
            "sent_at": None,
        }
    waiting = email.state != "sent"
    return {
        "state": email.state,
        "attempts": email.attempts,
        "last_error": email.last_error,
        "next_attempt_at": as_utc(email.next_attempt_at).isoformat() if waiting else None,
        "sent_at": as_utc(email.sent_at).isoformat() if email.sent_at else None,
    }
