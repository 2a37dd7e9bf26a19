"""Signing in and out, and the gate every request passes: session, then CSRF token."""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import time

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json, redirect

from console.accounts import (
    SESSION_HOURS,
    SignedIn,
    authenticate,
    end_session,
    signed_in,
    start_session,
)
from console.ratelimit import Schedule, client_address
from console.web import SAFE_METHODS, UNRECEIVED_METHOD, is_api, render, services

SESSION_COOKIE = "console_session"
LOGIN_COOKIE = "console_login"
# Marks a browser that signed in as an account: exempt from that account's throttle for
# guessing from many addresses (console/ratelimit.py). Grants nothing else.
DEVICE_COOKIE = "console_device"
DEVICE_DAYS = 90
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
# The model-server endpoint checks its own token (console/routes/models.py).
PUBLIC_PATHS = {"/login", "/health", "/api/models/live"}
WRONG_LOGIN = "Wrong username or password."
TOO_MANY = "Too many failed sign-ins. Wait {seconds} s, then try again."

bp = Blueprint("auth")


def is_public(request: Request) -> bool:
    """Paths open without a session: sign-in, readiness and static files.

    Also Sanic's stand-in for a request that never fully arrived (method NONE: a header
    too slow or too large), so that its 408 or 413 is answered as such.
    """
    if request.method == UNRECEIVED_METHOD:
        return True
    return request.path in PUBLIC_PATHS or request.path.startswith("/static/")


async def gate(request: Request) -> HTTPResponse | None:
    """Request middleware: a session for every non-public path, its CSRF token to change state.

    No session: 401 (API) or a redirect to the sign-in page. Wrong token: 403.
    """
    if is_public(request):
        return None
    request.ctx.user = current_user(request)
    if request.ctx.user is None:
        if is_api(request):
            return json({"error": "sign in first"}, status=401)
        return redirect("/login", status=303)
    if request.method not in SAFE_METHODS and not csrf_ok(request, request.ctx.user):
        return refuse(request, "missing or wrong CSRF token; reload the page and try again")
    return None


def current_user(request: Request) -> SignedIn | None:
    """Who the session cookie belongs to, if anyone."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    with services(request).db.session() as session:
        return signed_in(session, token)


def submitted_csrf(request: Request) -> str:
    """The CSRF token sent in the header or, for forms, the hidden field."""
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    form = request.form if request.content_type.startswith("application/x-www-form") else None
    return (form.get(CSRF_FIELD) or "") if form else ""


def csrf_ok(request: Request, user: SignedIn) -> bool:
    """True if the request carries the session's CSRF token."""
    return hmac.compare_digest(submitted_csrf(request).encode(), user.csrf_token.encode())


def refuse(request: Request, message: str, status: int = 403) -> HTTPResponse:
    """A refusal as JSON (API) or as an error page."""
    if is_api(request):
        return json({"error": message}, status=status)
    return render(request, "error.html", status=status, status_code=status, message=message)


def login_token(secret: str, nonce: str) -> str:
    """The sign-in form's CSRF token: the pre-session cookie's nonce, signed."""
    return hmac.new(secret.encode(), nonce.encode(), hashlib.sha256).hexdigest()


def set_cookie(response: HTTPResponse, request: Request, name: str, value: str, age: int) -> None:
    """Set an HttpOnly, SameSite=Strict cookie (Secure when configured)."""
    response.cookies[name] = value
    cookie = response.cookies[name]
    cookie["httponly"] = True
    cookie["samesite"] = "Strict"
    cookie["path"] = "/"
    cookie["max-age"] = age
    if services(request).settings.secure_cookies:
        cookie["secure"] = True


def device_signature(secret: str, username: str, issued: str) -> str:
    """The device cookie's signature of the account and the time it was issued."""
    message = f"device\0{username}\0{issued}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def device_cookie(secret: str, username: str) -> str:
    """A device cookie for a browser that has just signed in as `username`."""
    issued = str(int(time.time()))
    return f"{issued}.{device_signature(secret, username, issued)}"


def recognised(secret: str, cookie: str, username: str) -> bool:
    """True if `cookie` is an unexpired device cookie of this browser for `username`."""
    issued, _, signature = cookie.partition(".")
    if not (issued.isascii() and issued.isdigit() and len(issued) <= 12):
        return False
    if time.time() - int(issued) > DEVICE_DAYS * 86400:
        return False
    return hmac.compare_digest(
        signature.encode(), device_signature(secret, username, issued).encode()
    )


def too_many(request: Request, wait: float) -> HTTPResponse:
    """429 with Retry-After: this client must wait before trying this account again."""
    seconds = max(1, math.ceil(wait))
    response = login_page(request, 429, TOO_MANY.format(seconds=seconds))
    response.headers["Retry-After"] = str(seconds)
    return response


def login_page(request: Request, status: int = 200, error: str = "") -> HTTPResponse:
    """The sign-in form with a fresh pre-session CSRF nonce."""
    nonce = secrets.token_urlsafe(32)
    token = login_token(services(request).settings.secret, nonce)
    response = render(request, "login.html", status=status, login_csrf=token, error=error)
    set_cookie(response, request, LOGIN_COOKIE, nonce, 3600)
    return response


@bp.get("/login")
async def login_form(request: Request) -> HTTPResponse:
    """Show the sign-in form."""
    return login_page(request)


@bp.post("/login")
async def login(request: Request) -> HTTPResponse:
    """Check the CSRF token, the sign-in throttle and the password; start a session."""
    settings = services(request).settings
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    expected = login_token(settings.secret, nonce)
    if not nonce or not hmac.compare_digest(
        (request.form.get(CSRF_FIELD) or "").encode(), expected.encode()
    ):
        return login_page(request, 403, "The form expired. Please sign in again.")
    username = (request.form.get("username") or "").strip().lower()[:40]
    password = (request.form.get("password") or "")[:1024]
    limiter = services(request).limiter
    forwarded = request.headers.getall("x-forwarded-for", [])
    client = client_address(request.ip, forwarded, settings.trusted_proxies)
    schedule = Schedule(settings.login_delay, settings.login_max_delay)
    known = recognised(settings.secret, request.cookies.get(DEVICE_COOKIE, ""), username)
    wait = limiter.retry_after(username, client, schedule, recognised=known)
    if wait > 0:
        return too_many(request, wait)
    with services(request).db.session() as session:
        user = authenticate(session, username, password)
        token = start_session(session, user) if user else None
    if token is None:
        limiter.failed(username, client)
        return login_page(request, 401, WRONG_LOGIN)
    limiter.succeeded(username, client)
    response = redirect("/", status=303)
    set_cookie(response, request, SESSION_COOKIE, token, SESSION_HOURS * 3600)
    cookie = device_cookie(settings.secret, username)
    set_cookie(response, request, DEVICE_COOKIE, cookie, DEVICE_DAYS * 86400)
    del response.cookies[LOGIN_COOKIE]
    return response


@bp.post("/logout")
async def logout(request: Request) -> HTTPResponse:
    """End the session (the gate has checked session and CSRF token)."""
    with services(request).db.session() as session:
        end_session(session, request.cookies.get(SESSION_COOKIE, ""))
    response = redirect("/login", status=303)
    del response.cookies[SESSION_COOKIE]
    return response
