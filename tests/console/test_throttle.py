"""The sign-in throttle over HTTP, on consoles of their own: failed sign-ins slow down the
client that made them (growing delays, 429 + Retry-After), never lock the account, and
X-Forwarded-For counts only from a trusted proxy. Most tests drive the throttle's clock."""

from __future__ import annotations

import re
import time
import uuid
from types import SimpleNamespace

import pytest
import requests

from console.ratelimit import LoginLimiter
from tests.console.conftest import PASSWORD, make_console

WRONG = "not the password at all"


class Clock:
    """The throttle's clock, moved by the test."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def start(tmp_path):
    """make(name, **settings) -> (console, clock); consoles stopped after the test."""
    running = []

    def make(name: str, real_clock: bool = False, **overrides):
        tmp = tmp_path / uuid.uuid4().hex[:8]
        tmp.mkdir()
        console = make_console(tmp, SimpleNamespace(db=tmp / "tracker.db"), name, **overrides)
        running.append(console)
        clock = Clock()
        if not real_clock:
            console.app.ctx.services.limiter = LoginLimiter(clock=clock)
        return console, clock

    yield make
    for console in running:
        console.served.stop()


def attempt(
    console,
    username: str,
    password: str,
    forwarded: str | None = None,
    session: requests.Session | None = None,
) -> requests.Response:
    """One sign-in through the form, optionally with an X-Forwarded-For header."""
    session = session or requests.Session()
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    form = session.get(console.url + "/login", headers=headers, timeout=30)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    return session.post(
        console.url + "/login",
        data={"csrf_token": token, "username": username, "password": password},
        headers=headers,
        allow_redirects=False,
        timeout=30,
    )


def retry_after(response: requests.Response) -> int:
    assert response.status_code == 429, response.status_code
    assert "Too many failed sign-ins" in response.text
    return int(response.headers["Retry-After"])


def test_failures_grow_the_delay_up_to_the_cap_and_never_lock_out(start):
    console, clock = start("throttle_growth", login_delay=1.0, login_max_delay=8.0)
    for _ in range(3):  # free
        assert attempt(console, "admin", WRONG).status_code == 401
    waits = []
    for _ in range(6):
        waits.append(retry_after(attempt(console, "admin", PASSWORD)))  # even the right one
        clock.advance(waits[-1] - 0.5)
        assert retry_after(attempt(console, "admin", PASSWORD)) == 1  # not over yet
        clock.advance(0.5)
        assert attempt(console, "admin", WRONG).status_code == 401
    assert waits == [1, 2, 4, 8, 8, 8]
    clock.advance(8)
    assert attempt(console, "admin", PASSWORD).status_code == 303
    # The success cleared this client's failures for the account: three free again.
    for _ in range(3):
        assert attempt(console, "admin", WRONG).status_code == 401
    assert retry_after(attempt(console, "admin", PASSWORD)) == 1


def test_real_user_signs_in_seconds_after_many_failures(start):
    """With the real clock and a short schedule: slowed down, never a 15-minute lockout."""
    console, _ = start("throttle_real_time", real_clock=True, login_delay=0.5, login_max_delay=1.0)

    def until_answered(password: str, deadline: float) -> tuple[requests.Response, int]:
        refused = 0
        while (response := attempt(console, "admin", password)).status_code == 429:
            assert time.monotonic() < deadline, "still refused"
            refused += 1
            time.sleep(0.1)
        return response, refused

    deadline = time.monotonic() + 20
    refused = 0
    for _ in range(6):
        response, waits = until_answered(WRONG, deadline)
        assert response.status_code == 401
        refused += waits
    response, waits = until_answered(PASSWORD, deadline)
    assert response.status_code == 303
    assert refused + waits > 0


def test_one_client_failing_on_many_accounts_slows_that_client(start):
    console, clock = start("throttle_client", login_delay=1.0, login_max_delay=8.0)
    for n in range(20):
        assert attempt(console, f"user{n}", WRONG).status_code == 401
    assert retry_after(attempt(console, "viewer", PASSWORD)) == 1
    clock.advance(1)
    assert attempt(console, "viewer", PASSWORD).status_code == 303


def test_forged_forwarded_for_from_an_untrusted_socket_is_ignored(start):
    # The proxy trusted is another machine: the test client's own headers do not count.
    console, _ = start("throttle_forged", trusted_proxies=("10.0.0.1",))
    for n in range(3):
        assert attempt(console, "admin", WRONG, forwarded=f"198.51.100.{n}").status_code == 401
    assert retry_after(attempt(console, "admin", PASSWORD, forwarded="203.0.113.50")) == 1
    assert retry_after(attempt(console, "admin", PASSWORD)) == 1


def test_behind_a_trusted_proxy_clients_have_separate_budgets(start):
    console, _ = start("throttle_proxy", trusted_proxies=("127.0.0.1", "10.0.0.0/8"))
    attacker = "203.0.113.7"
    for _ in range(3):
        assert attempt(console, "admin", WRONG, forwarded=attacker).status_code == 401
    assert retry_after(attempt(console, "admin", PASSWORD, forwarded=attacker)) == 1
    # Prepending the real user's address does not help: the right-most untrusted hop counts.
    forged = f"198.51.100.9, {attacker}, 10.1.2.3"
    assert retry_after(attempt(console, "admin", PASSWORD, forwarded=forged)) == 1
    # Another client behind the same proxy, and the socket itself, are not held back.
    assert attempt(console, "admin", PASSWORD, forwarded="198.51.100.9").status_code == 303
    assert attempt(console, "admin", PASSWORD).status_code == 303


def test_guessing_one_account_from_many_addresses_spares_its_own_browser(start):
    console, clock = start(
        "throttle_account", trusted_proxies=("127.0.0.1",), login_delay=1.0, login_max_delay=8.0
    )
    browser = requests.Session()  # the real user's, signed in as admin before
    assert attempt(console, "admin", PASSWORD, "198.51.100.9", browser).status_code == 303
    assert "console_device" in browser.cookies
    for n in range(5):  # one failure from each of five addresses
        assert attempt(console, "admin", WRONG, forwarded=f"203.0.113.{n}").status_code == 401
    # Any browser new to the account waits, from any address, right password or not ...
    assert retry_after(attempt(console, "admin", PASSWORD, forwarded="192.0.2.1")) == 1
    assert retry_after(attempt(console, "admin", WRONG, forwarded="203.0.113.99")) == 1
    # ... but the account's own browser signs in at once, even from a new address.
    assert attempt(console, "admin", PASSWORD, "192.0.2.1", browser).status_code == 303
    # Its device cookie does not exempt it for another account under attack.
    for n in range(5):
        assert attempt(console, "viewer", WRONG, forwarded=f"203.0.113.{n}").status_code == 401
    assert retry_after(attempt(console, "viewer", PASSWORD, "198.51.100.9", browser)) == 1
    clock.advance(1)
    assert attempt(console, "viewer", PASSWORD, forwarded="192.0.2.1").status_code == 303
