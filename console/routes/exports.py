"""Downloads: every conversation as JSON lines, reviewed ones as Rasa test stories."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, text

from console.exports import jsonl, test_stories
from console.records import reviewed_ids, standing_annotations
from console.tables import Annotation
from console.web import services

bp = Blueprint("exports")


def attachment(name: str) -> dict[str, str]:
    """Headers that make the browser save the response as `name`."""
    return {"Content-Disposition": f'attachment; filename="{name}"'}


@bp.get("/export/conversations.jsonl")
async def conversations_jsonl(request: Request) -> None:
    """One JSON object per conversation, newest first, streamed as each is read.

    The body is never held whole: one conversation at a time is read, summarised (outside
    the summary cache) and sent, so the export takes the same memory at any size.
    """
    source = services(request).source
    ids = await source.newest_first()
    response = await request.respond(
        content_type="application/x-ndjson", headers=attachment("conversations.jsonl")
    )
    for conversation_id in ids:
        conversation = await source.read(conversation_id)
        if conversation is not None:  # deleted since the ids were listed
            await response.send(jsonl([conversation]))
    await response.eof()


def corrected_intents(annotations: list[Annotation], cid: str) -> dict[int, str]:
    """Intent by event index, as staff corrected them in this conversation (newest wins)."""
    corrected = {}
    for annotation in reversed(annotations):
        if annotation.conversation_id != cid:
            continue
        if annotation.action == "assign_intent":
            corrected[annotation.event_index] = annotation.intent
        elif annotation.action == "out_of_scope":
            corrected[annotation.event_index] = "out_of_scope"
        else:
            corrected[annotation.event_index] = f"faq/{annotation.faq_name}"
    return corrected


@bp.get("/export/test_stories.yml")
async def stories_yml(request: Request) -> HTTPResponse:
    """Reviewed conversations as test stories, with staff corrections applied."""
    with services(request).db.session() as session:
        reviewed = sorted(reviewed_ids(session))
        annotations = standing_annotations(session)
    source = services(request).source
    stories = []
    for cid in reviewed:
        events = await source.events(cid)
        if events:
            stories.append((cid, events, corrected_intents(annotations, cid)))
    return text(
        test_stories(stories),
        content_type="application/x-yaml",
        headers=attachment("test_stories.yml"),
    )
