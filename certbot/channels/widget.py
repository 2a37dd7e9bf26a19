"""The web widget's channel: Rasa's REST protocol hardened for a public endpoint.

Mounted at /webhooks/widget/:
- POST webhook   the REST-channel protocol, with conversation ids issued by the bot (below),
                 a 2,000-character message limit (413), per-visitor and per-IP rate limits
                 (429 + Retry-After), a CORS allowlist (403 for other origins) and JSON errors;
                 the bot's curated answers come marked `"rateable": true` (thumbs under them);
- GET widget.js, widget.css   the built widget (widget/dist/), so one origin serves both;
- GET demo/      the demo page (widget/demo/) under a strict Content-Security-Policy.

A visitor continues only a conversation it started: a message without `sender` starts a
new conversation, whose id (signed, certbot.channels.conversation_ids) comes back in the
`X-Conversation-Id` response header; later messages send it as `sender`. Any other
`sender` (made up, forged, a REST visitor's id) gets 403 with `"code": "conversation_not_issued"`,
and the widget starts afresh.

Configured in credentials.yml under `certbot.channels.widget.WidgetInput`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from certbot.channels import conversation_ids
from certbot.channels.rest import (
    RequestRejected,
    ValidatedRestInput,
    limit_settings,
    origin_allowlist,
    origin_is_allowed,
    parse_webhook_body,
)

WIDGET_DIR = Path(__file__).resolve().parents[2] / "widget"
ASSETS = {
    "demo/": (WIDGET_DIR / "demo" / "index.html", "text/html; charset=utf-8"),
    "widget.js": (WIDGET_DIR / "dist" / "widget.js", "application/javascript; charset=utf-8"),
    "widget.css": (WIDGET_DIR / "dist" / "widget.css", "text/css; charset=utf-8"),
    "demo/demo.css": (WIDGET_DIR / "demo" / "demo.css", "text/css; charset=utf-8"),
}
DEMO_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' https:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
FORBIDDEN_ORIGIN = "this website is not allowed to use the chat"
CONVERSATION_HEADER = "X-Conversation-Id"
NOT_ISSUED = "this conversation id was not issued by the bot: start a new conversation"
NOT_ISSUED_CODE = "conversation_not_issued"
MAX_LOGGED = 1000  # refused origins logged, each once
# The bot's curated answers: domain.yml's FAQ responses and those the console adds.
ANSWER_PREFIX = "utter_faq/"
logger = logging.getLogger(__name__)
ASSET_HEADERS = {
    "Cache-Control": "public, max-age=300",
    "Cross-Origin-Resource-Policy": "cross-origin",
    "X-Content-Type-Options": "nosniff",
}


class AnswerCollector(CollectingOutputChannel):
    """Collects the replies, marking the bot's curated answers `"rateable": true`.

    The widget offers Helpful / Not helpful under those only: not under greetings, form
    prompts, validation messages or fallbacks. An answer sent as several messages (one per
    paragraph) is marked on its last one.
    """

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        """Collect one reply's messages; mark the last text of a curated answer."""
        answer = str(message.get("utter_action") or "").startswith(ANSWER_PREFIX)
        start = len(self.messages)
        await super().send_response(recipient_id, message)
        texts = [sent for sent in self.messages[start:] if sent.get("text")]
        if answer and texts:
            texts[-1]["rateable"] = True


class WidgetInput(ValidatedRestInput):
    """REST protocol for the widget, with limits fit for the open internet."""

    max_message_chars = 2_000

    def __init__(
        self,
        allowed_origins: Iterable[str] = (),
        max_messages_per_visitor: int = 20,
        max_messages_per_ip: int = 60,
        window_seconds: float = 60,
    ) -> None:
        """Set the CORS allowlist and the rate limits (messages per window)."""
        super().__init__(max_messages_per_visitor, max_messages_per_ip, window_seconds)
        self.allowed_origins = origin_allowlist(allowed_origins)
        self.refused_origins: set[str] = set()
        self.secret = conversation_ids.secret_from_environment()

    @classmethod
    def name(cls) -> str:
        """URL prefix /webhooks/widget/."""
        return "widget"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        """Build the channel from its section in credentials.yml."""
        credentials = credentials or {}
        return cls(
            allowed_origins=credentials.get("allowed_origins") or (), **limit_settings(credentials)
        )

    def collector(self) -> CollectingOutputChannel:
        """Replies with the curated answers marked rateable (`AnswerCollector`)."""
        return AnswerCollector()

    def origin_allowed(self, request: Request) -> bool:
        """Same-origin requests, requests without Origin, and allowlisted origins pass."""
        return origin_is_allowed(request.headers.get("origin"), request.host, self.allowed_origins)

    def check_webhook_request(self, request: Request) -> dict[str, Any]:
        """Origin, then the per-IP limit, then the body, then the per-visitor limit.

        The refusal of an origin carries CORS headers, so that the widget on that site can
        read it and say why instead of retrying; each refused origin is logged once.
        """
        if not self.origin_allowed(request):
            origin = request.headers.get("origin", "")
            if origin not in self.refused_origins and len(self.refused_origins) < MAX_LOGGED:
                self.refused_origins.add(origin)
                logger.warning("Refused the widget on %r: not in allowed_origins", origin[:200])
            raise RequestRejected(
                403, FORBIDDEN_ORIGIN, {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}
            )
        return super().check_webhook_request(request)

    def webhook_payload(self, body: bytes) -> dict[str, Any]:
        """The checked payload, its `sender` the conversation the message goes to.

        Without a `sender`, a new conversation with an id issued now; with an id the bot
        issued, that conversation; any other id is refused (403).
        """
        payload = parse_webhook_body(body, self.max_message_chars, sender_required=False)
        sender = payload.get("sender")
        if sender is None:
            payload["sender"] = conversation_ids.issue(self.secret)
        elif not conversation_ids.is_issued(self.secret, sender):
            raise RequestRejected(403, NOT_ISSUED, code=NOT_ISSUED_CODE)
        return payload

    def webhook_headers(
        self, request: Request, conversation_id: str | None = None
    ) -> dict[str, str]:
        """The conversation id (`X-Conversation-Id`) once known, and CORS headers.

        The CORS headers, for an allowed cross-origin request, let the widget read the
        reply and these headers.
        """
        headers = {CONVERSATION_HEADER: conversation_id} if conversation_id else {}
        origin = request.headers.get("origin")
        if origin and self.origin_allowed(request):
            headers.update(
                {
                    "Access-Control-Allow-Origin": origin,
                    "Access-Control-Expose-Headers": f"Retry-After, {CONVERSATION_HEADER}",
                    "Vary": "Origin",
                }
            )
        return headers

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        """Webhook (checked, CORS headers for allowed origins), widget files, demo page.

        The widget posts its JSON as text/plain, a CORS "simple request": no preflight is
        needed (Rasa's server answers every OPTIONS request itself).
        """
        blueprint = super().blueprint(on_new_message)

        @blueprint.route("/widget.js", methods=["GET"])
        async def widget_js(request: Request) -> HTTPResponse:
            return await serve("widget.js")

        @blueprint.route("/widget.css", methods=["GET"])
        async def widget_css(request: Request) -> HTTPResponse:
            return await serve("widget.css")

        @blueprint.route("/demo/demo.css", methods=["GET"])
        async def demo_css(request: Request) -> HTTPResponse:
            return await serve("demo/demo.css")

        @blueprint.route("/demo", methods=["GET"], strict_slashes=False)
        async def demo(request: Request) -> HTTPResponse:
            if not request.path.endswith("/"):
                return response.redirect(request.path + "/")
            return await serve("demo/")

        return blueprint


async def serve(name: str) -> HTTPResponse:
    """One of the widget's files (the demo page with its CSP), or a JSON 404."""
    path, mime_type = ASSETS[name]
    if not path.is_file():
        return RequestRejected(404, f"{name} not found").response()
    headers = dict(ASSET_HEADERS)
    if mime_type.startswith("text/html"):
        headers["Content-Security-Policy"] = DEMO_CSP
    return await response.file(path, mime_type=mime_type, headers=headers)
