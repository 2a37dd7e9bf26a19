"""Dashboard: conversations per day, outcomes, top intents, confidence histogram."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from console.charts import bars
from console.stats import dashboard
from console.web import render, services

bp = Blueprint("dashboard")


async def figures(request: Request) -> dict[str, Any]:
    """The dashboard's figures as of today (UTC)."""
    conversations = await services(request).source.all()
    return dashboard(conversations, datetime.now(timezone.utc).date())


@bp.get("/api/dashboard")
async def dashboard_api(request: Request) -> HTTPResponse:
    """The dashboard's figures as JSON."""
    return json(await figures(request))


@bp.get("/")
async def dashboard_page(request: Request) -> HTTPResponse:
    """The dashboard with its charts."""
    data = await figures(request)
    charts = {
        "per_day": bars(data["per_day"]),
        "confidence": bars(data["confidence"]),
        "intents": bars(data["top_intents"]),
    }
    return render(request, "dashboard.html", data=data, charts=charts)
