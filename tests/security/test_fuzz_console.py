"""Hypothesis against a served console: every route of its router, with random path
parameters, spellings of the path, query strings and bodies, anonymous and as each role,
with a right, wrong or no CSRF token. Never a server error; the JSON API answers errors as
`{"error": ...}`; anonymous requests reach nothing but the public routes, and changes
without the session's CSRF token are never carried out."""

from __future__ import annotations

import json
import re
import uuid
from urllib.parse import quote

import pytest
import requests
from hypothesis import event, given
from hypothesis import strategies as st

from tests.console.conftest import ROLES, make_console
from tests.security.strategies import FUZZ, JSON_VALUES, ODD_TEXT

# Starts a real training run (minutes of CPU); its refusals are tested in tests/console/.
NOT_FUZZED = {"/logout", "/models/retrain", "/api/models/retrain"}
QUERY_NAMES = ["from", "to", "q", "intent", "below", "fell_back", "declined", "negative",
               "contact", "reviewed", "page", "status", "token"]  # fmt: skip
FIELD_NAMES = ["tags", "note", "reviewed", "group", "action", "intent", "faq_name", "answer",
               "status", "username", "password", "csrf_token"]  # fmt: skip
GOOD_VALUES = st.sampled_from(
    ["done", "open", "all", "assign_intent", "out_of_scope", "new_faq", "faq/who_certifies",
     "greet", "brand_new_faq", "An answer.", "yes", "no", "true", "1", "0.5", "2024-01-01"]
)  # fmt: skip
FIELD_VALUES = GOOD_VALUES | st.lists(GOOD_VALUES | ODD_TEXT, max_size=3) | JSON_VALUES
PARAM = re.compile(r"<([a-z_]+)(?::([a-z]+))?>")
# Ways to write a path that a server or proxy may take for the same route.
SPELLINGS = [
    lambda path: path,
    lambda path: path,
    lambda path: path.rstrip("/") + "/",
    lambda path: "/" + path,
    lambda path: path.replace("/", "//"),
    lambda path: path.upper(),
    lambda path: f"{path[:-1]}%{ord(path[-1]):02X}" if len(path) > 1 else path,
    lambda path: path + "/.",
    lambda path: path + "%20",
    lambda path: path + ";x",
]
PUBLIC = {"/login", "/health", "/api/models/live"}


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory, bot):
    """A console on the session bot's store, its routes, a signed-in session per role, and
    the ids of a conversation to read and of one the fuzzer may delete."""
    tmp = tmp_path_factory.mktemp("fuzz-console")
    console = make_console(tmp, bot, "fuzz", registry=tmp / "registry")
    keep, spare = (f"fuzz-console-{uuid.uuid4().hex[:8]}" for _ in range(2))
    for sender in (keep, spare):
        bot.say(sender, "who issues ISO 9001 certificates?")
    routes = sorted(
        (method, "/" + route.path)
        for route in console.app.router.routes
        for method in route.methods
        if "/" + route.path not in NOT_FUZZED
    )
    sessions = {role: console.session(role) for role in ROLES}
    yield console, routes, sessions, keep, spare
    console.served.stop()


def concrete(template: str, values: list[str]) -> str:
    """The route's path with its parameters replaced by `values`, in order."""
    parts = iter(values)
    return PARAM.sub(lambda _: quote(next(parts), safe=""), template)


def path_values(data, template: str, keep: str, spare: str) -> list[str]:
    """A value per path parameter: a real id, a number, or anything."""
    values = []
    for name, kind in PARAM.findall(template):
        ids = [spare] if "delete" in template else [keep, spare]
        choices = st.sampled_from(ids) if kind in ("", "str") else st.nothing()
        choices |= st.integers(-3, 10**20).map(str) | ODD_TEXT
        values.append(data.draw(choices, label=name))
    return values


BODIES = st.one_of(
    st.none(),
    st.dictionaries(st.sampled_from(FIELD_NAMES) | ODD_TEXT, FIELD_VALUES, max_size=6).map(
        lambda fields: ("json", fields)
    ),
    st.dictionaries(
        st.sampled_from(FIELD_NAMES) | ODD_TEXT, GOOD_VALUES | ODD_TEXT, max_size=6
    ).map(lambda fields: ("form", fields)),
    JSON_VALUES.map(lambda value: ("json", value)),
    st.binary(max_size=500).map(lambda raw: ("raw", raw)),
)


@FUZZ
@given(data=st.data())
def test_no_route_fails_whatever_it_is_sent(fuzzed, data):
    console, routes, sessions, keep, spare = fuzzed
    method, template = data.draw(st.sampled_from(routes), label="route")
    path = concrete(template, path_values(data, template, keep, spare))
    path = data.draw(st.sampled_from(SPELLINGS), label="spelling")(path)
    role = data.draw(st.sampled_from([None, *ROLES, "reviewer", "admin"]), label="role")
    client = sessions[role] if role else requests.Session()
    csrf = data.draw(st.sampled_from(["right", "right", "right", "wrong", "none"]), label="csrf")
    headers = {}
    if csrf != "none":
        headers["X-CSRF-Token"] = getattr(client, "csrf", "x") if csrf == "right" else "wrong"
    query = data.draw(
        st.dictionaries(
            st.sampled_from(QUERY_NAMES) | ODD_TEXT, GOOD_VALUES | ODD_TEXT, max_size=4
        ),
        label="query",
    )
    body = data.draw(BODIES, label="body")
    kwargs = {}
    if body is not None:
        kind, value = body
        if kind == "json":
            kwargs["data"] = json.dumps(value).encode()
            headers["Content-Type"] = "application/json"
        else:
            kwargs["data"] = value
    reply = client.request(
        method, console.url + path, params=query, headers=headers,
        allow_redirects=False, timeout=60, **kwargs,
    )  # fmt: skip
    event(f"{method} {reply.status_code}")
    assert reply.status_code < 500, (method, path, reply.status_code, reply.text[:300])
    if template not in PUBLIC and not template.startswith("/static"):
        checked = role is None or (csrf != "right" and method not in ("GET", "HEAD", "OPTIONS"))
        if checked:  # no session, or a change without its CSRF token: never carried out
            assert not 200 <= reply.status_code < 300, (method, path, role, csrf, reply.text[:300])
    if path.startswith("/api/") and reply.status_code >= 400 and method != "HEAD":
        assert reply.json()["error"], reply.text[:300]


@pytest.mark.parametrize("path", ["/api/conversations/x/review", "/login"])
def test_an_oversized_body_is_refused(fuzzed, path):
    console, _, sessions, _, _ = fuzzed
    reviewer = sessions["reviewer"]
    reply = reviewer.post(
        console.url + path, data=b"x" * 2_000_000, allow_redirects=False, timeout=60,
        headers={"X-CSRF-Token": reviewer.csrf, "Content-Type": "application/json"},
    )  # fmt: skip
    assert reply.status_code == 413
    if path.startswith("/api/"):
        assert reply.json()["error"]
