"""Deadlines for receiving a request, so slow clients cannot hold connections open.

Sanic 21.12 restarts its request timeout whenever a byte arrives, so a client sending one
header line every 10 s kept a connection open for minutes (slowloris), and a body trickled
in the same way. `install` gives every request of this process a total deadline from its
first byte to the end of its header (`HEAD_SECONDS`, then 408 and the connection closed)
and another for its body (`BODY_SECONDS`). The bot and the staff console install it; a
reverse proxy in front (deploy/nginx.conf.template) sets the same limits.

It must be installed once the server starts (`install_on_start`, a `before_server_start`
listener): at start-up Sanic recompiles `Http.http1_request_header` from its source
(sanic.touchup), which would not compile a wrapper in its place.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from sanic.exceptions import RequestTimeout
from sanic.http import Http
from sanic.request import Request

HEAD_SECONDS = 10.0
BODY_SECONDS = 20.0

logger = logging.getLogger(__name__)


def _expire(http: Http, what: str) -> None:
    """Fail the request being received on this connection with 408."""
    task = getattr(http.protocol, "_task", None)
    if task is not None and not task.done():
        http.exception = RequestTimeout(f"the request {what} took too long to arrive")
        # Sanic would otherwise read the rest of the body, as slowly as it comes, after
        # answering; without it the connection closes once the 408 is sent.
        http.request_body = None
        task.cancel()


def _with_deadline(
    receive: Callable[..., Awaitable[Any]],
    http_of: Callable[[Any], Http | None],
    seconds: float,
    what: str,
) -> Callable[..., Coroutine[Any, Any, Any]]:
    """`receive`, cancelled with 408 when it takes longer than `seconds`."""

    async def receive_in_time(self: Any) -> Any:
        http = http_of(self)
        if http is None:
            return await receive(self)
        timer = asyncio.get_running_loop().call_later(seconds, _expire, http, what)
        try:
            return await receive(self)
        finally:
            timer.cancel()

    receive_in_time.certbot_deadline = True  # type: ignore[attr-defined]
    return receive_in_time


def _request_http(request: Request) -> Http | None:
    """The connection handler receiving `request` (None outside a real connection)."""
    stream = request.stream
    return stream if isinstance(stream, Http) else None


async def install_on_start(_app: object, _loop: object) -> None:
    """Listener (`before_server_start`): `install` with the default deadlines."""
    install()


def install(head_seconds: float = HEAD_SECONDS, body_seconds: float = BODY_SECONDS) -> None:
    """Give requests of this process a head and a body deadline (once; later calls no-op)."""
    if getattr(Http.http1_request_header, "certbot_deadline", False):
        return
    Http.http1_request_header = _with_deadline(  # type: ignore[method-assign]
        Http.http1_request_header, lambda http: http, head_seconds, "header"
    )
    Request.receive_body = _with_deadline(  # type: ignore[method-assign]
        Request.receive_body, _request_http, body_seconds, "body"
    )
    logger.debug(
        "request deadlines: %s s for the header, %s s for the body", head_seconds, body_seconds
    )
