"""Sign-in cookie flags, on consoles of their own (the sign-in throttle: test_throttle.py)."""

from __future__ import annotations

import re

import requests

from tests.console.conftest import PASSWORD, login, make_console


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
        device = set_cookies(response)["console_device"]
        assert {"httponly", "samesite=strict", "path=/", f"max-age={90 * 86400}"} <= device
        assert "secure" in set_cookies(requests.get(secure.url + "/login"))["console_login"]
        response = sign_in_keeping_secure_cookies(secure.url)
        assert response.status_code == 303
        assert {"secure", "httponly", "samesite=strict"} <= set_cookies(response)["console_session"]
        assert {"secure", "httponly", "samesite=strict"} <= set_cookies(response)["console_device"]
    finally:
        plain.served.stop()
        secure.served.stop()
