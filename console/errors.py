"""Error responses: JSON under /api/, a page elsewhere; never a stack trace."""

from __future__ import annotations

import logging

from sanic import Request
from sanic.exceptions import SanicException
from sanic.response import HTTPResponse, json

from console.accounts import AccountError
from console.filters import FilterError
from console.records import InputError
from console.tracker import DeleteNotSupported
from console.web import is_api, render

logger = logging.getLogger(__name__)
GENERIC = "Something went wrong on our side; it has been logged."


def status_and_message(error: BaseException) -> tuple[int, str]:
    """The HTTP status and the message to show for an exception."""
    if isinstance(error, InputError):
        return error.status, str(error)
    if isinstance(error, FilterError | AccountError):
        return 400, str(error)
    if isinstance(error, DeleteNotSupported):
        return 501, f"deleting is not supported for the {error} tracker store"
    if isinstance(error, SanicException) and error.status_code < 500:
        return error.status_code, str(error) or "request refused"
    logger.exception("unhandled error", exc_info=error)
    return 500, GENERIC


async def handle_error(request: Request, error: Exception) -> HTTPResponse:
    """The app's one exception handler."""
    status, message = status_and_message(error)
    if is_api(request):
        return json({"error": message}, status=status)
    return render(request, "error.html", status=status, status_code=status, message=message)
