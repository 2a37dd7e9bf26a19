"""Every setting of the console, read from the environment in this one place."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

SECRET_FILE = Path("var/console-secret")
TRUE_WORDS = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    """The console's configuration (see docs/console-api.md for each variable)."""

    db_url: str = "sqlite:///var/console.db"
    endpoints: Path = Path("endpoints.yml")
    domain: Path = Path("domain.yml")
    secret: str = ""
    secure_cookies: bool = False
    retention_days: int = 0
    host: str = "127.0.0.1"
    port: int = 5006

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        """Settings from environment variables, with the defaults above."""
        env = dict(os.environ if env is None else env)
        return cls(
            db_url=env.get("CONSOLE_DB_URL", cls.db_url),
            endpoints=Path(env.get("ENDPOINTS", str(cls.endpoints))),
            domain=Path(env.get("DOMAIN", str(cls.domain))),
            secret=env.get("CONSOLE_SECRET") or persistent_secret(SECRET_FILE),
            secure_cookies=env.get("CONSOLE_SECURE_COOKIES", "false").lower() in TRUE_WORDS,
            retention_days=non_negative_int(env.get("RETENTION_DAYS", "0"), "RETENTION_DAYS"),
            host=env.get("CONSOLE_HOST", cls.host),
            port=non_negative_int(env.get("CONSOLE_PORT", str(cls.port)), "CONSOLE_PORT"),
        )


def non_negative_int(value: str, name: str) -> int:
    """Parse a whole number >= 0, naming the variable when it is not one."""
    if not value.strip().isdigit():
        raise ValueError(f"{name} must be a whole number >= 0, not {value!r}")
    return int(value)


def persistent_secret(path: Path) -> str:
    """The secret kept in `path`, created (mode 600) on first use."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(secret)
    return secret
