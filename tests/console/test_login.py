"""Sign-in rate limits and cookie flags, on consoles of their own (limits are per app)."""

from __future__ import annotations

import re

import requests

from tests.console.conftest import PASSWORD, login, make_console


def test_five_failures_per_username_then_429(tmp_path, bot):
    console = make_console(tmp_path, bot, "limits_user")
    try:
        for _ in range(5):
            assert (
                login(requests.Session(), console.url, "admin", "wrong password!!").status_code
                == 401
            )
        blocked = login(requests.Session(), console.url, "admin", PASSWORD)
        assert blocked.status_code == 429
        assert "Too many failed sign-ins" in blocked.text
        assert login(requests.Session(), console.url, "viewer", PASSWORD).status_code == 303
    finally:
        console.served.stop()


def test_twenty_failures_per_ip_then_429(tmp_path, bot):
    console = make_console(tmp_path, bot, "limits_ip")
    try:
        for n in range(20):
            assert (
                login(requests.Session(), console.url, f"user{n}", "wrong password!!").status_code
                == 401
            )
        assert login(requests.Session(), console.url, "viewer", PASSWORD).status_code == 429
    finally:
        console.served.stop()


def set_cookies(response) -> dict[str, set[str]]:
    """Each Set-Cookie header: name=value -> its lower-cased attributes."""
    cookies = {}
    for header in response.raw.headers.getlist("Set-Cookie"):
        first, *attributes = (part.strip() for part in header.split(";"))
        cookies[first.split("=")[0]] = {first, *(a.lower() for a in attributes)}
    return cookies


def sign_in_keeping_secure_cookies(url: str) -> requests.Response:
    """Sign in over plain HTTP even though the cookies are Secure (a client would not)."""
    form = requests.get(url + "/login")
    nonce = next(a for a in set_cookies(form)["console_login"] if a.startswith("console_login="))
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    return requests.post(
        url + "/login",
        data={"csrf_token": token, "username": "viewer", "password": PASSWORD},
        headers={"Cookie": nonce},
        allow_redirects=False,
    )


def test_cookie_flags(tmp_path, bot):
    plain = make_console(tmp_path / "plain", bot, "cookies")
    secure = make_console(tmp_path / "secure", bot, "cookies_secure", secure_cookies=True)
    try:
        response = login(requests.Session(), plain.url, "viewer", PASSWORD)
        assert response.status_code == 303
        flags = set_cookies(response)["console_session"]
        assert {"httponly", "samesite=strict", "path=/", "max-age=28800"} <= flags
        assert "secure" not in flags
        assert "secure" in set_cookies(requests.get(secure.url + "/login"))["console_login"]
        response = sign_in_keeping_secure_cookies(secure.url)
        assert response.status_code == 303
        assert {"secure", "httponly", "samesite=strict"} <= set_cookies(response)["console_session"]
    finally:
        plain.served.stop()
        secure.served.stop()
