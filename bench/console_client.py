"""A staff member signed in to the console over HTTP, for the benchmarks."""

from __future__ import annotations

import re
from typing import Any

import requests


class ConsoleClient:
    """A `requests` session signed in to the console, with its CSRF token."""

    def __init__(self, console: str, user: str, password: str) -> None:
        """Sign in as `user` (SystemExit saying why when that fails)."""
        self.console = console.rstrip("/")
        self.session = requests.Session()
        form = self.session.get(self.console + "/login", timeout=30).text
        found = re.search(r'name="csrf_token" value="([^"]+)"', form)
        if found is None:
            raise SystemExit(f"{self.console}/login has no CSRF token: is it the staff console?")
        self.session.post(
            self.console + "/login",
            data={"csrf_token": found.group(1), "username": user, "password": password},
            timeout=30,
        )
        page = self.session.get(self.console + "/", timeout=30)
        found = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
        if page.status_code != 200 or found is None:
            raise SystemExit(f"could not sign in to {self.console} as {user}")
        self.csrf = found.group(1)

    def get(self, path: str, timeout: float = 600) -> requests.Response:
        """GET a console path (its response, whatever the status)."""
        return self.session.get(self.console + path, timeout=timeout)

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        """A console API call's JSON; exits with its error when it fails."""
        headers = {"X-CSRF-Token": self.csrf}
        response = self.session.request(
            method, self.console + path, headers=headers, timeout=60, **kwargs
        )
        if response.status_code >= 400:
            raise SystemExit(f"{method} {path}: {response.status_code} {response.text[:300]}")
        return response.json()
