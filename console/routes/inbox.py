"""The "needs review" inbox: annotate groups of doubtful messages, undo annotations."""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Request
from sanic.exceptions import NotFound
from sanic.response import HTTPResponse, json

from console.inbox import InboxGroup, group_items, inbox_items
from console.records import (
    InputError,
    annotate,
    annotation_json,
    check_correction,
    standing_annotations,
    undo_annotation,
)
from console.tables import Annotation
from console.web import Fields, done, me, page_and_api, render, requires, services
from retrain.links import allowed_domains, text_problems

bp = Blueprint("inbox")
RECENT = 50


async def groups_and_annotations(request: Request) -> tuple[list[InboxGroup], list[Annotation]]:
    """The inbox's groups and the standing annotations, newest first."""
    with services(request).db.session() as session:
        annotations = standing_annotations(session)
    annotated = {(a.conversation_id, a.event_index) for a in annotations}
    items = inbox_items(await services(request).source.all(), annotated)
    return group_items(items), annotations


def group_json(group: InboxGroup) -> dict[str, Any]:
    """A group as JSON."""
    return {
        "key": group.key,
        "text": group.text,
        "reasons": group.reasons,
        "predicted": group.intents,
        "messages": [
            {
                "conversation_id": item.conversation_id,
                "event_index": item.message.index,
                "text": item.message.text,
                "timestamp": item.message.timestamp,
                "intent": item.message.intent,
                "confidence": item.message.confidence,
                "reasons": list(item.reasons),
            }
            for item in group.items
        ],
    }


@bp.get("/api/inbox")
async def inbox_api(request: Request) -> HTTPResponse:
    """Groups needing review and the recent annotations, as JSON."""
    groups, annotations = await groups_and_annotations(request)
    return json(
        {
            "groups": [group_json(g) for g in groups],
            "annotations": [annotation_json(a) for a in annotations[:RECENT]],
            "intents": [{"name": c.name, "answer": c.answer} for c in services(request).catalogue],
        }
    )


@bp.get("/inbox")
async def inbox_page(request: Request) -> HTTPResponse:
    """The inbox page."""
    groups, annotations = await groups_and_annotations(request)
    return render(
        request,
        "inbox.html",
        groups=groups,
        annotations=annotations[:RECENT],
        catalogue=services(request).catalogue,
    )


@page_and_api(bp, "/inbox/annotate")
@requires("reviewer")
async def annotate_groups(request: Request) -> HTTPResponse:
    """Apply one correction to every selected group."""
    fields = Fields.of(request)
    correction = check_correction(
        fields.text("action"),
        fields.text("intent").strip(),
        fields.text("faq_name").strip(),
        fields.text("answer"),
        services(request).intent_names,
    )
    domains = allowed_domains(services(request).settings)
    if refused := text_problems(correction.faq_answer or "", domains):
        raise InputError("the answer is refused: " + "; ".join(refused))
    keys = set(fields.texts("group"))
    if not keys:
        raise InputError("select at least one group")
    groups, _ = await groups_and_annotations(request)
    chosen = [g for g in groups if g.key in keys]
    if len(chosen) != len(keys):
        raise InputError("some selected messages are no longer in the inbox; reload", 409)
    with services(request).db.session() as session:
        created = annotate(
            session, [i for g in chosen for i in g.items], correction, me(request).username
        )
        session.flush()
        ids = [a.id for a in created]
    return done(request, {"annotations": ids}, "/inbox")


@page_and_api(bp, "/annotations/<aid:int>/undo")
@requires("reviewer")
async def undo(request: Request, aid: int) -> HTTPResponse:
    """Undo an annotation: its messages return to the inbox."""
    with services(request).db.session() as session:
        if undo_annotation(session, aid, me(request).username) is None:
            raise NotFound("no annotation with this id")
    return done(request, {"undone": aid}, "/inbox")
