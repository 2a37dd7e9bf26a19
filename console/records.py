"""Staff records kept in the console database: reviews, annotations, contact status."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from console.inbox import InboxItem
from console.tables import (
    ANNOTATION_ACTIONS,
    ANSWER_MAX,
    NOTE_MAX,
    Annotation,
    ContactStatus,
    Review,
    audit,
    utcnow,
)

TAG = re.compile(r"^[\w][\w .:-]{0,39}$")
MAX_TAGS = 20
FAQ_NAME = re.compile(r"^[a-z][a-z0-9_]{2,39}$")


class InputError(ValueError):
    """Staff input that cannot be saved; `status` is the HTTP status to answer."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def parse_tags(values: Iterable[str]) -> list[str]:
    """Tags from a list of comma-separated strings: trimmed, unique, validated."""
    tags: list[str] = []
    for value in values:
        for tag in (part.strip() for part in value.split(",")):
            if tag and tag not in tags:
                if not TAG.match(tag):
                    raise InputError(f"invalid tag {tag[:50]!r}: letters, digits, space . : - _")
                tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise InputError(f"at most {MAX_TAGS} tags")
    return tags


def check_note(note: str) -> str:
    """The note, refused (413) when longer than allowed."""
    if len(note) > NOTE_MAX:
        raise InputError(f"the note has {len(note)} characters; at most {NOTE_MAX}", 413)
    return note


def review_of(session: Session, conversation_id: str) -> Review | None:
    """The conversation's review row, if any."""
    return session.get(Review, conversation_id)


def reviewed_ids(session: Session) -> set[str]:
    """Ids of the conversations marked reviewed."""
    query = select(Review.conversation_id).where(Review.reviewed_at.is_not(None))
    return set(session.scalars(query))


def update_review(
    session: Session,
    conversation_id: str,
    who: str,
    tags: list[str] | None = None,
    note: str | None = None,
    reviewed: bool | None = None,
) -> Review:
    """Change the given parts of a conversation's review (None leaves a part as it is)."""
    review = review_of(session, conversation_id) or Review(
        conversation_id=conversation_id, tags="", note=""
    )
    session.add(review)
    if tags is not None:
        review.tags = ",".join(tags)
    if note is not None:
        review.note = check_note(note)
    if reviewed is not None:
        review.reviewed_by, review.reviewed_at = (who, utcnow()) if reviewed else (None, None)
    audit(session, who, "review", f"{conversation_id}: tags/note/reviewed changed")
    return review


@dataclass(frozen=True)
class Correction:
    """What staff decided about a group of inbox messages."""

    action: str
    intent: str | None = None
    faq_name: str | None = None
    faq_answer: str | None = None


def check_correction(
    action: str, intent: str, faq_name: str, answer: str, known_intents: set[str]
) -> Correction:
    """A valid correction from form or JSON fields, or InputError."""
    if action not in ANNOTATION_ACTIONS:
        raise InputError(f"action must be one of {', '.join(ANNOTATION_ACTIONS)}")
    if action == "assign_intent":
        if intent not in known_intents:
            raise InputError(f"unknown intent {intent[:80]!r}")
        return Correction(action, intent=intent)
    if action == "new_faq":
        if not FAQ_NAME.match(faq_name):
            raise InputError("the FAQ name must match ^[a-z][a-z0-9_]{2,39}$")
        if f"faq/{faq_name}" in known_intents:
            raise InputError(f"faq/{faq_name} exists already: assign it instead")
        if not answer.strip():
            raise InputError("a new FAQ needs an answer")
        if len(answer) > ANSWER_MAX:
            raise InputError(f"the answer has {len(answer)} characters; at most {ANSWER_MAX}", 413)
        return Correction(action, faq_name=faq_name, faq_answer=answer.strip())
    return Correction(action)


def annotate(
    session: Session, items: Iterable[InboxItem], correction: Correction, who: str
) -> list[Annotation]:
    """Record the correction for every item."""
    annotations = [
        Annotation(
            conversation_id=item.conversation_id,
            event_index=item.message.index,
            event_timestamp=item.message.timestamp or 0.0,
            text=item.message.text,
            predicted_intent=item.message.intent,
            action=correction.action,
            intent=correction.intent,
            faq_name=correction.faq_name,
            faq_answer=correction.faq_answer,
            created_by=who,
        )
        for item in items
    ]
    session.add_all(annotations)
    audit(session, who, "annotate", f"{correction.action} on {len(annotations)} message(s)")
    return annotations


def standing_annotations(session: Session) -> list[Annotation]:
    """Annotations not undone, newest first."""
    query = select(Annotation).where(Annotation.undone_at.is_(None))
    return list(session.scalars(query.order_by(Annotation.id.desc())))


def undo_annotation(session: Session, annotation_id: int, who: str) -> Annotation | None:
    """Undo an annotation; None if there is none with that id, InputError if undone."""
    annotation = session.get(Annotation, annotation_id)
    if annotation is None:
        return None
    if annotation.undone_at is not None:
        raise InputError("this annotation was undone already", 409)
    annotation.undone_by, annotation.undone_at = who, utcnow()
    audit(session, who, "undo annotation", str(annotation_id))
    return annotation


def contact_statuses(session: Session) -> dict[str, ContactStatus]:
    """Every stored contact status by conversation id (absent means open)."""
    return {row.conversation_id: row for row in session.scalars(select(ContactStatus))}


def set_contact_status(session: Session, conversation_id: str, status: str, who: str) -> None:
    """Mark a contact request done (recording who and when) or open again."""
    row = session.get(ContactStatus, conversation_id) or ContactStatus(
        conversation_id=conversation_id
    )
    session.add(row)
    row.status = status
    row.closed_by, row.closed_at = (who, utcnow()) if status == "done" else (None, None)
    audit(session, who, "contact status", f"{conversation_id}: {status}")


def delete_records(session: Session, conversation_id: str) -> None:
    """Remove every console row about a conversation."""
    for model in (Review, Annotation, ContactStatus):
        session.query(model).filter(model.conversation_id == conversation_id).delete()


def review_json(review: Review | None) -> dict[str, Any]:
    """A conversation's review as JSON (empty when there is none)."""
    reviewed_at = review.reviewed_at if review else None
    return {
        "tags": [tag for tag in (review.tags if review else "").split(",") if tag],
        "note": review.note if review else "",
        "reviewed": reviewed_at is not None,
        "reviewed_by": review.reviewed_by if review else None,
        "reviewed_at": reviewed_at.isoformat() if reviewed_at else None,
    }


def annotation_json(annotation: Annotation) -> dict[str, Any]:
    """An annotation as JSON."""
    return {
        "id": annotation.id,
        "conversation_id": annotation.conversation_id,
        "event_index": annotation.event_index,
        "text": annotation.text,
        "predicted_intent": annotation.predicted_intent,
        "action": annotation.action,
        "intent": annotation.intent,
        "faq_name": annotation.faq_name,
        "faq_answer": annotation.faq_answer,
        "by": annotation.created_by,
        "at": annotation.created_at.isoformat(),
        "undone": annotation.undone_at is not None,
    }
