"""Privacy (admin): the retention run and the audit log."""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json
from sqlalchemy import select

from console.privacy import apply_retention
from console.records import InputError
from console.tables import AuditEntry
from console.web import done, me, page_and_api, render, requires, services

bp = Blueprint("privacy")
AUDIT_SHOWN = 100


def audit_log(request: Request) -> list[dict[str, Any]]:
    """The latest audit-log entries, newest first."""
    with services(request).db.session() as session:
        query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(AUDIT_SHOWN)
        return [
            {"who": e.who, "at": e.at.isoformat(), "what": e.what, "details": e.details}
            for e in session.scalars(query)
        ]


@bp.get("/api/audit")
@requires("admin")
async def audit_api(request: Request) -> HTTPResponse:
    """The audit log as JSON."""
    return json({"entries": audit_log(request)})


@bp.get("/privacy")
@requires("admin")
async def privacy_page(request: Request) -> HTTPResponse:
    """Retention setting, the button to apply it, and the audit log."""
    days = services(request).settings.retention_days
    return render(request, "privacy.html", retention_days=days, entries=audit_log(request))


@page_and_api(bp, "/privacy/retention")
@requires("admin")
async def run_retention(request: Request) -> HTTPResponse:
    """Delete the conversations older than RETENTION_DAYS; 409 when retention is off."""
    days = services(request).settings.retention_days
    if days <= 0:
        raise InputError("retention is off (RETENTION_DAYS=0): conversations are kept", 409)
    deleted = await apply_retention(
        services(request).source, services(request).db, days, me(request).username
    )
    return done(request, {"deleted": deleted}, "/privacy")
