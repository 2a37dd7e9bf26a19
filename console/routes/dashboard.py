"""Dashboard: conversations per day, outcomes, top intents, confidence histogram."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from console import charts
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
    drawn = {
        "per_day": charts.per_day(data["per_day"]),
        "confidence": charts.histogram(data["confidence"]),
        "intents": charts.ranking(data["top_intents"]),
    }
    return render(request, "dashboard.html", data=data, charts=drawn)
