"""The console's Sanic app: `create_app(settings)` builds it; `python -m console` runs it."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote

from sanic import Request, Sanic
from sanic.exceptions import NotFound
from sanic.response import BaseHTTPResponse, HTTPResponse, json
from sqlalchemy import text

from console.auth import bp as auth_bp
from console.auth import gate
from console.errors import handle_error
from console.notify import Notifier, retry_failed
from console.routes import contacts, conversations, dashboard, exports, inbox, models, privacy
from console.services import Services
from console.settings import Settings
from retrain.jobs import recover

STATIC = Path(__file__).parent / "static"
MAX_BODY_BYTES = 1_000_000
MAX_ROW_ID = 2**63 - 1
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
BLUEPRINTS = (
    auth_bp,
    dashboard.bp,
    conversations.bp,
    inbox.bp,
    contacts.bp,
    exports.bp,
    privacy.bp,
    models.bp,
)


def create_app(settings: Settings, name: str = "console") -> Sanic:
    """A console app for these settings (connects to both databases at once).

    Once serving, it looks for new contact requests in the background (`console.notify`).
    """
    app = Sanic(name)
    app.config.REQUEST_MAX_SIZE = MAX_BODY_BYTES
    app.ctx.services = Services.build(settings)
    recover(app.ctx.services.db)
    retry_failed(app.ctx.services.db)
    app.ctx.notifier = Notifier(app.ctx.services)
    app.ctx.services.templates.globals["notifier"] = app.ctx.notifier
    app.add_task(app.ctx.notifier.run)
    for blueprint in BLUEPRINTS:
        app.blueprint(blueprint)
    app.static("/static", str(STATIC), name="static")
    app.add_route(health, "/health", methods=["GET"])
    app.register_middleware(gate, "request")
    app.register_middleware(refuse_huge_ids, "request")
    app.register_middleware(refuse_static_folders, "request")
    app.register_middleware(add_security_headers, "response")
    app.error_handler.add(Exception, handle_error)
    return app


async def refuse_huge_ids(request: Request) -> None:
    """404 for a numeric id in the path that no database row can have (over 64 bits)."""
    if any(isinstance(v, int) and abs(v) > MAX_ROW_ID for v in request.match_info.values()):
        raise NotFound("no such item")


async def refuse_static_folders(request: Request) -> None:
    """404 for `/static/`, a folder in it, or an impossible name (Sanic's handler: 500).

    Impossible: with a NUL, or too long for the file system.
    """
    if not request.path.startswith("/static/"):
        return
    name = unquote(request.path.removeprefix("/static/"))
    try:
        refused = "\x00" in name or (STATIC / name).resolve().is_dir()
    except OSError:  # ENAMETOOLONG and the like: no such file either
        refused = True
    if refused:
        raise NotFound("no such file")


async def health(request: Request) -> HTTPResponse:
    """Readiness: the app is up and the console database answers."""
    with request.app.ctx.services.db.session() as session:
        session.execute(text("select 1"))
    return json({"status": "ok"})


async def add_security_headers(request: Request, response: BaseHTTPResponse) -> None:
    """Response middleware: security headers on every response; no caching of pages."""
    response.headers.update(SECURITY_HEADERS)
    if not request.path.startswith("/static/"):
        response.headers["Cache-Control"] = "no-store"
