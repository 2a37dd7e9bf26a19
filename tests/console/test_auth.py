"""Every state-changing route, enumerated from the app's router, refuses: no session,
missing or wrong CSRF token, insufficient role. Plus sessions and headers."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
import requests

from tests.console.conftest import PASSWORD, login

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
SELF_GUARDED = {"login"}  # checks its own pre-session CSRF token
ANY_ROLE = {"logout"}
LOWER_ROLES = {"reviewer": ["viewer"], "admin": ["viewer", "reviewer"]}


def unsafe_routes(app) -> list[tuple[str, str, object]]:
    """(method, path template, handler) of every state-changing route."""
    routes = []
    for route in app.router.routes:
        for method in sorted(route.methods & UNSAFE):
            routes.append((method, "/" + route.path, route.handler))
    return routes


def concrete(path: str, cid: str) -> str:
    return re.sub(r"<\w+:int>", "1", re.sub(r"<cid:str>", cid, path))


def name_of(handler) -> str:
    return handler.__name__


@pytest.fixture(scope="module")
def routes(console):
    found = unsafe_routes(console.app)
    assert len(found) >= 12
    return found


def test_every_unsafe_route_declares_a_role(routes):
    for method, path, handler in routes:
        name = name_of(handler)
        if name in SELF_GUARDED | ANY_ROLE:
            continue
        assert getattr(handler, "required_role", None) in LOWER_ROLES, (method, path)


def send(session, method: str, url: str, token: str | None):
    headers = {"X-CSRF-Token": token} if token is not None else {}
    return session.request(method, url, json={}, headers=headers, allow_redirects=False)


def test_no_session_is_401_or_a_redirect_to_login(console, routes, conversations):
    for method, path, handler in routes:
        if name_of(handler) in SELF_GUARDED:
            continue
        url = console.url + concrete(path, conversations["contact"])
        response = requests.request(method, url, json={}, allow_redirects=False, timeout=30)
        if path.startswith("/api/"):
            assert response.status_code == 401, (method, path)
            assert response.json()["error"]
        else:
            assert response.status_code == 303, (method, path)
            assert response.headers["Location"] == "/login"


@pytest.mark.parametrize("token", [None, "", "wrong-token"])
def test_missing_or_wrong_csrf_token_is_403(console, routes, conversations, token):
    admin = console.session("admin")
    for method, path, handler in routes:
        if name_of(handler) in SELF_GUARDED:
            continue
        url = console.url + concrete(path, conversations["contact"])
        response = send(admin, method, url, token)
        assert response.status_code == 403, (method, path, response.text[:200])
    form = admin.post(console.url + "/logout", data={"csrf_token": "nope"}, allow_redirects=False)
    assert form.status_code == 403
    assert admin.get(console.url + "/api/dashboard").status_code == 200


def test_insufficient_role_is_403(console, routes, conversations):
    sessions = {role: console.session(role) for role in ("viewer", "reviewer")}
    for method, path, handler in routes:
        needed = getattr(handler, "required_role", None)
        for role in LOWER_ROLES.get(needed, []):
            session = sessions[role]
            url = console.url + concrete(path, conversations["contact"])
            response = send(session, method, url, session.csrf)
            assert response.status_code == 403, (role, method, path)


def test_login_form_needs_its_csrf_token(console):
    session = requests.Session()
    session.get(console.url + "/login")
    response = session.post(
        console.url + "/login",
        allow_redirects=False,
        data={"username": "admin", "password": PASSWORD},
    )
    assert response.status_code == 403
    assert "console_session" not in response.headers.get("Set-Cookie", "")


def test_wrong_password_is_generic(console):
    for username in ("admin", "nobody"):
        response = login(requests.Session(), console.url, username, "not the password at all")
        assert response.status_code == 401
        assert "Wrong username or password." in response.text


def test_logout_ends_the_session(console):
    session = console.session("viewer")
    response = session.post(
        console.url + "/logout", data={"csrf_token": session.csrf}, allow_redirects=False
    )
    assert response.status_code == 303
    assert session.get(console.url + "/api/dashboard").status_code == 401


def test_stolen_cookie_is_useless_after_logout(console):
    session = console.session("viewer")
    cookie = session.cookies.get("console_session")
    session.post(console.url + "/logout", data={"csrf_token": session.csrf})
    response = requests.get(console.url + "/api/dashboard", cookies={"console_session": cookie})
    assert response.status_code == 401


def test_viewer_reads_but_admin_pages_are_403(console):
    viewer = console.session("viewer")
    for path in (
        "/",
        "/conversations",
        "/inbox",
        "/contacts",
        "/contacts.csv",
        "/export/conversations.jsonl",
        "/export/test_stories.yml",
    ):
        assert viewer.get(console.url + path).status_code == 200, path
    assert viewer.get(console.url + "/privacy").status_code == 403
    assert viewer.get(console.url + "/api/audit").status_code == 403


def test_pages_without_session_redirect_and_api_is_401(console):
    response = requests.get(console.url + "/inbox", allow_redirects=False)
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    assert requests.get(console.url + "/api/inbox").status_code == 401
    assert requests.get(console.url + "/health").json() == {"status": "ok"}


@pytest.mark.parametrize(
    "path",
    ["/static/", "/static/.", "/static/%2e", "/static/%00", "/static/x%00", "/static/" + "x" * 300],
)
def test_static_folders_and_impossible_names_are_not_found(console, path):
    response = requests.get(console.url + path, allow_redirects=False)
    assert response.status_code == 404
    assert requests.get(console.url + "/static/console.css").status_code == 200


@pytest.mark.parametrize(
    "path", ["/login", "/health", "/no-such-page", "/api/conversations", "/static/console.css"]
)
def test_security_headers_on_every_response(console, path):
    headers = requests.get(console.url + path, allow_redirects=False).headers
    csp = headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"


class InlineCode(HTMLParser):
    """Collects what a strict CSP would block: inline scripts, styles, handlers."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _ in attrs}
        if (tag == "script" and "src" not in names) or tag == "style":
            self.found.append(tag)
        self.found += [name for name in names if name == "style" or name.startswith("on")]


def test_pages_have_no_inline_script_style_or_handlers(console, conversations):
    admin = console.session("admin")
    for path in (
        "/",
        "/conversations",
        "/inbox",
        "/contacts",
        "/privacy",
        "/login",
        f"/conversations/{conversations['html']}",
    ):
        parser = InlineCode()
        parser.feed(admin.get(console.url + path).text)
        assert parser.found == [], path
