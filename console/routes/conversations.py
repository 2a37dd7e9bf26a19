"""Conversation list with filters, transcripts, review marks, tags and notes, deletion."""

from __future__ import annotations

from math import ceil
from typing import Any
from urllib.parse import quote

from sanic import Blueprint, Request
from sanic.exceptions import NotFound
from sanic.response import HTTPResponse, json

from console.exports import conversation_record
from console.filters import PAGE_SIZE, FilterError, parse_filter
from console.filters import parse_bool as yes_no
from console.privacy import delete_conversation
from console.records import (
    InputError,
    annotation_json,
    check_note,
    parse_tags,
    review_json,
    review_of,
    reviewed_ids,
    update_review,
)
from console.summary import Conversation
from console.tables import Annotation
from console.web import Fields, done, me, page_and_api, path_id, render, requires, services

bp = Blueprint("conversations")


def list_row(conversation: Conversation, reviewed: bool) -> dict[str, Any]:
    """What the list shows of a conversation."""
    return {
        "id": conversation.id,
        "started": conversation.first_at,
        "last_event": conversation.last_at,
        "messages": len(conversation.messages),
        "first_question": conversation.first_question,
        "lowest_confidence": conversation.lowest_confidence,
        "flags": conversation.flags,
        "reviewed": reviewed,
    }


async def listing(request: Request) -> dict[str, Any]:
    """One page of the conversations passing the request's filters (FilterError if bad)."""
    wanted = parse_filter({name: values[0] for name, values in request.args.items()})
    with services(request).db.session() as session:
        reviewed = reviewed_ids(session)
    matching = [
        c for c in await services(request).source.all() if wanted.matches(c, c.id in reviewed)
    ]
    start = (wanted.page - 1) * PAGE_SIZE
    return {
        "total": len(matching),
        "page": wanted.page,
        "pages": ceil(len(matching) / PAGE_SIZE),
        "page_size": PAGE_SIZE,
        "conversations": [
            list_row(c, c.id in reviewed) for c in matching[start : start + PAGE_SIZE]
        ],
    }


@bp.get("/api/conversations")
async def list_api(request: Request) -> HTTPResponse:
    """Filtered, paginated conversations as JSON."""
    return json(await listing(request))


@bp.get("/conversations")
async def list_page(request: Request) -> HTTPResponse:
    """The conversation list; a bad filter shows its message (400) above the form."""
    args = {name: values[0] for name, values in request.args.items()}
    try:
        return render(request, "conversations.html", result=await listing(request), args=args)
    except FilterError as error:
        return render(request, "conversations.html", 400, result=None, args=args, error=str(error))


async def transcript(request: Request, cid: str) -> dict[str, Any]:
    """A conversation (`cid` decoded) with its review and annotations; 404 if unknown."""
    conversation = await services(request).source.get(cid)
    if conversation is None:
        raise NotFound("no conversation with this id")
    with services(request).db.session() as session:
        annotations = session.query(Annotation).filter(Annotation.conversation_id == cid)
        return {
            **conversation_record(conversation),
            "negative_for": conversation.negative_for,
            "review": review_json(review_of(session, cid)),
            "annotations": [annotation_json(a) for a in annotations],
        }


@bp.get("/api/conversations/<cid>")
async def transcript_api(request: Request, cid: str) -> HTTPResponse:
    """A transcript as JSON."""
    return json(await transcript(request, path_id(cid)))


@bp.get("/conversations/<cid>")
async def transcript_page(request: Request, cid: str) -> HTTPResponse:
    """A transcript page."""
    return render(request, "transcript.html", c=await transcript(request, path_id(cid)))


@page_and_api(bp, "/conversations/<cid>/review")
@requires("reviewer")
async def review(request: Request, cid: str) -> HTTPResponse:
    """Change tags, note and/or the reviewed mark (only the fields sent)."""
    cid = path_id(cid)
    fields = Fields.of(request)
    tags = parse_tags(fields.texts("tags")) if "tags" in fields else None
    note = check_note(fields.text("note")) if "note" in fields else None
    try:
        reviewed = yes_no(fields.text("reviewed")) if "reviewed" in fields else None
    except ValueError as error:
        raise InputError(f"'reviewed': {error}") from None
    if await services(request).source.get(cid) is None:
        raise NotFound("no conversation with this id")
    with services(request).db.session() as session:
        result = review_json(
            update_review(session, cid, me(request).username, tags, note, reviewed)
        )
    return done(request, result, f"/conversations/{quote(cid, safe='')}")


@page_and_api(bp, "/conversations/<cid>/delete")
@requires("admin")
async def delete(request: Request, cid: str) -> HTTPResponse:
    """Delete the conversation everywhere (audit-logged)."""
    cid = path_id(cid)
    source = services(request).source
    if await source.get(cid) is None:
        raise NotFound("no conversation with this id")
    delete_conversation(source, services(request).db, cid, me(request).username)
    return done(request, {"deleted": cid}, "/conversations")
