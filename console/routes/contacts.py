"""Contact requests: list with the email sent to staff about each, open/done status, CSV."""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Request
from sanic.exceptions import NotFound
from sanic.response import HTTPResponse, json, text

from console.exports import contacts_csv
from console.notify import Notifier, email_json, emails_by_key, key_of
from console.records import InputError, contact_statuses, set_contact_status
from console.tables import CONTACT_STATUSES
from console.web import Fields, done, me, page_and_api, path_id, render, requires, services

bp = Blueprint("contacts")
STATUS_FILTERS = ("open", "done", "all")


def notifier(request: Request) -> Notifier:
    """The app's contact request notifier."""
    return request.app.ctx.notifier


async def contact_rows(request: Request) -> list[dict[str, Any]]:
    """Every completed contact request with its status and email, newest first.

    Also refreshes the open count in the navigation.
    """
    conversations = await services(request).source.all()
    with services(request).db.session() as session:
        statuses = contact_statuses(session)
        emails = emails_by_key(session)
    rows = []
    for conversation in conversations:
        if conversation.contact_request is None:
            continue
        status = statuses.get(conversation.id)
        rows.append(
            {
                "conversation_id": conversation.id,
                **conversation.contact_request,
                "status": status.status if status else "open",
                "closed_by": status.closed_by if status else None,
                "closed_at": status.closed_at.isoformat() if status and status.closed_at else None,
                "notification": email_json(emails.get(key_of(conversation))),
            }
        )
    notifier(request).open_contacts = sum(row["status"] == "open" for row in rows)
    return sorted(rows, key=lambda row: row["submitted_at"], reverse=True)


def status_filter(request: Request) -> str:
    """The ?status= filter: open (default), done or all; 400 otherwise."""
    wanted = request.args.get("status", "open")
    if wanted not in STATUS_FILTERS:
        raise InputError(f"status must be one of {', '.join(STATUS_FILTERS)}")
    return wanted


async def filtered(request: Request) -> tuple[str, list[dict[str, Any]]]:
    """The status filter and the rows passing it."""
    wanted = status_filter(request)
    rows = await contact_rows(request)
    return wanted, [row for row in rows if wanted in ("all", row["status"])]


@bp.get("/api/contacts")
async def contacts_api(request: Request) -> HTTPResponse:
    """Contact requests as JSON."""
    _, rows = await filtered(request)
    return json({"contacts": rows, "email_enabled": notifier(request).enabled})


@bp.get("/contacts")
async def contacts_page(request: Request) -> HTTPResponse:
    """The contact requests page."""
    wanted, rows = await filtered(request)
    smtp = services(request).settings.smtp
    return render(
        request,
        "contacts.html",
        rows=rows,
        shown=wanted,
        statuses=STATUS_FILTERS,
        recipients=", ".join(smtp.recipients) if smtp else None,
    )


@bp.get("/contacts.csv")
async def contacts_export(request: Request) -> HTTPResponse:
    """Every contact request as CSV."""
    return text(
        contacts_csv(await contact_rows(request)),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="contacts.csv"'},
    )


@page_and_api(bp, "/contacts/<cid>/status")
@requires("reviewer")
async def change_status(request: Request, cid: str) -> HTTPResponse:
    """Mark a contact request done (or open again)."""
    cid = path_id(cid)
    status = Fields.of(request).text("status")
    if status not in CONTACT_STATUSES:
        raise InputError(f"status must be one of {', '.join(CONTACT_STATUSES)}")
    conversation = await services(request).source.get(cid)
    if conversation is None or conversation.contact_request is None:
        raise NotFound("no contact request in this conversation")
    with services(request).db.session() as session:
        set_contact_status(session, cid, status, me(request).username)
    return done(request, {"conversation_id": cid, "status": status}, "/contacts")
