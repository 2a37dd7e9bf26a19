"""Request and response helpers shared by every blueprint."""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import unquote

from sanic import Blueprint, Request
from sanic.exceptions import Forbidden, InvalidUsage
from sanic.response import HTTPResponse, html, json, redirect

from console.accounts import SignedIn
from console.services import Services

# A coroutine function, as Sanic's routes take (sanic.models.handler_types.RouteHandler).
Handler = Callable[..., Coroutine[Any, Any, HTTPResponse]]
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def services(request: Request) -> Services:
    """The app's services."""
    return request.app.ctx.services


# Sanic's stand-in for a request that never fully arrived (a header too slow or too large):
# its error is answered as JSON, the path being unknown.
UNRECEIVED_METHOD = "NONE"


def is_api(request: Request) -> bool:
    """True for the JSON API (paths under /api/), and for errors before a request arrived."""
    if request.method == UNRECEIVED_METHOD:
        return True
    return request.path == "/api" or request.path.startswith("/api/")


def path_id(segment: str) -> str:
    """An id from its path segment, percent-decoded exactly once.

    Sanic matches the raw path and passes the segment still encoded (so an encoded `/`
    stays in it); templates encode ids with the `segment` filter.
    """
    return unquote(segment)


def me(request: Request) -> SignedIn:
    """The signed-in staff member (the auth middleware guarantees one)."""
    return request.ctx.user


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTTPResponse:
    """A page from a template, with the signed-in member and CSRF token available."""
    user = getattr(request.ctx, "user", None)
    page = services(request).templates.get_template(template)
    body = page.render(
        user=user, csrf_token=user.csrf_token if user else "", path=request.path, **context
    )
    return html(body, status=status)


def done(request: Request, payload: dict[str, Any], location: str) -> HTTPResponse:
    """After a change: JSON for the API, otherwise back to a page (303 See Other)."""
    return json(payload) if is_api(request) else redirect(location, status=303)


def requires(role: str) -> Callable[[Handler], Handler]:
    """Refuse (403) members whose role does not include `role`."""

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def guarded(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
            if not me(request).may(role):
                raise Forbidden(f"this needs the {role} role")
            return await handler(request, *args, **kwargs)

        guarded.required_role = role  # type: ignore[attr-defined]
        return guarded

    return decorate


def page_and_api(blueprint: Blueprint, path: str) -> Callable[[Handler], Handler]:
    """Register a POST handler at `path` (HTML forms) and at /api`path` (JSON)."""

    def register(handler: Handler) -> Handler:
        name = handler.__name__
        blueprint.add_route(handler, path, methods=["POST"], name=name)
        blueprint.add_route(handler, "/api" + path, methods=["POST"], name=f"api_{name}")
        return handler

    return register


class Fields:
    """Submitted fields, from a form (pages) or a JSON object (API), read alike."""

    def __init__(self, values: dict[str, list[str]]) -> None:
        self._values = values

    @classmethod
    def of(cls, request: Request) -> Fields:
        """The request's fields; 400 for a JSON body that is not an object of strings."""
        if not is_api(request):
            return cls({name: list(values) for name, values in request.form.items()})
        body = request.json if request.body else {}
        if not isinstance(body, dict):
            raise InvalidUsage("the body must be a JSON object")
        return cls({str(name): as_strings(str(name), value) for name, value in body.items()})

    def text(self, name: str, default: str = "") -> str:
        """The field's (first) value."""
        values = self._values.get(name)
        return values[0] if values else default

    def texts(self, name: str) -> list[str]:
        """Every value of the field."""
        return list(self._values.get(name, []))

    def __contains__(self, name: str) -> bool:
        return name in self._values


def as_strings(name: str, value: object) -> list[str]:
    """A JSON value as a list of strings: booleans as true/false, lists item by item."""
    if isinstance(value, bool):
        return ["true" if value else "false"]
    if isinstance(value, str | int | float):
        return [str(value)]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return list(value)
    if value is None:
        return []
    raise InvalidUsage(f"'{name}' must be a string, number, boolean or list of strings")
