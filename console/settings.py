"""Every setting of the console, read from the environment in this one place."""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from certbot.secret_files import persistent_secret

SECRET_FILE = Path("var/console-secret")
MODEL_TOKEN_FILE = Path("var/model-pull-token")
TRUE_WORDS = {"1", "true", "yes", "on"}
# CONSOLE_SMTP_TLS: the mode and its usual port. "none" only for a server on this machine.
SMTP_PORTS = {"starttls": 587, "tls": 465, "none": 25}
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}
# A plain address (no display name, no comments, ASCII), for settings and Reply-To.
ADDRESS = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$")


@dataclass(frozen=True)
class Smtp:
    """The mail server that contact request emails go through (CONSOLE_SMTP_*)."""

    host: str
    port: int
    tls: str
    sender: str
    recipients: tuple[str, ...]
    username: str = ""
    password: str = field(default="", repr=False)

    def as_env(self) -> dict[str, str]:
        """The CONSOLE_SMTP_* variables that `smtp_settings` reads back into these."""
        return {
            "CONSOLE_SMTP_HOST": self.host,
            "CONSOLE_SMTP_PORT": str(self.port),
            "CONSOLE_SMTP_TLS": self.tls,
            "CONSOLE_SMTP_FROM": self.sender,
            "CONSOLE_SMTP_TO": ",".join(self.recipients),
            "CONSOLE_SMTP_USERNAME": self.username,
            "CONSOLE_SMTP_PASSWORD": self.password,
        }


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
    project: Path = Path(".")
    registry: Path = Path("models/registry")
    keep_models: int = 5
    answer_link_domains: tuple[str, ...] | None = None
    model_pull_token: str = ""
    retrain_config: Path | None = None
    finetune: bool = True
    max_accuracy_drop: float = 0.02
    max_f1_drop: float = 0.1
    max_off_topic_rise: float = 0.002
    trusted_proxies: tuple[str, ...] = ()
    login_delay: float = 1.0
    login_max_delay: float = 60.0
    smtp: Smtp | None = None
    public_url: str = ""
    contact_poll: float = 30.0
    contact_retry: float = 60.0

    @property
    def training_config(self) -> Path:
        """The config trainings use: RETRAIN_CONFIG, else the project's config.yml."""
        return self.retrain_config or self.project / "config.yml"

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
            project=Path(env.get("RETRAIN_PROJECT", str(cls.project))),
            registry=Path(env.get("MODEL_REGISTRY", str(cls.registry))),
            keep_models=non_negative_int(env.get("KEEP_MODELS", "5"), "KEEP_MODELS"),
            answer_link_domains=domain_names(env.get("ANSWER_LINK_DOMAINS")),
            model_pull_token=env.get("MODEL_PULL_TOKEN") or persistent_secret(MODEL_TOKEN_FILE),
            retrain_config=Path(env["RETRAIN_CONFIG"]) if env.get("RETRAIN_CONFIG") else None,
            finetune=env.get("RETRAIN_FINETUNE", "true").lower() in TRUE_WORDS,
            max_accuracy_drop=fraction(env, "RETRAIN_MAX_ACCURACY_DROP", cls.max_accuracy_drop),
            max_f1_drop=fraction(env, "RETRAIN_MAX_F1_DROP", cls.max_f1_drop),
            max_off_topic_rise=fraction(env, "RETRAIN_MAX_OFF_TOPIC_RISE", cls.max_off_topic_rise),
            trusted_proxies=networks(env, "CONSOLE_TRUSTED_PROXIES"),
            login_delay=seconds(env, "CONSOLE_LOGIN_DELAY", cls.login_delay),
            login_max_delay=seconds(env, "CONSOLE_LOGIN_MAX_DELAY", cls.login_max_delay),
            smtp=smtp_settings(env),
            public_url=public_url(env.get("CONSOLE_PUBLIC_URL", "")),
            contact_poll=seconds(env, "CONSOLE_CONTACT_POLL_SECONDS", cls.contact_poll),
            contact_retry=seconds(env, "CONSOLE_CONTACT_RETRY_SECONDS", cls.contact_retry),
        )

    def as_env(self) -> dict[str, str]:
        """Environment variables that make `from_env` rebuild these settings (for a job)."""
        env = {
            "CONSOLE_DB_URL": self.db_url,
            "ENDPOINTS": str(self.endpoints),
            "DOMAIN": str(self.domain),
            "CONSOLE_SECRET": self.secret,
            "CONSOLE_SECURE_COOKIES": str(self.secure_cookies).lower(),
            "RETENTION_DAYS": str(self.retention_days),
            "CONSOLE_HOST": self.host,
            "CONSOLE_PORT": str(self.port),
            "RETRAIN_PROJECT": str(self.project),
            "MODEL_REGISTRY": str(self.registry),
            "KEEP_MODELS": str(self.keep_models),
            "RETRAIN_FINETUNE": str(self.finetune).lower(),
            "MODEL_PULL_TOKEN": self.model_pull_token,
            "RETRAIN_MAX_ACCURACY_DROP": str(self.max_accuracy_drop),
            "RETRAIN_MAX_F1_DROP": str(self.max_f1_drop),
            "RETRAIN_MAX_OFF_TOPIC_RISE": str(self.max_off_topic_rise),
            "CONSOLE_TRUSTED_PROXIES": ",".join(self.trusted_proxies),
            "CONSOLE_LOGIN_DELAY": str(self.login_delay),
            "CONSOLE_LOGIN_MAX_DELAY": str(self.login_max_delay),
            "CONSOLE_PUBLIC_URL": self.public_url,
            "CONSOLE_CONTACT_POLL_SECONDS": str(self.contact_poll),
            "CONSOLE_CONTACT_RETRY_SECONDS": str(self.contact_retry),
            **(self.smtp.as_env() if self.smtp else {}),
        }
        if self.retrain_config is not None:
            env["RETRAIN_CONFIG"] = str(self.retrain_config)
        if self.answer_link_domains is not None:
            env["ANSWER_LINK_DOMAINS"] = ",".join(self.answer_link_domains)
        return env


def non_negative_int(value: str, name: str) -> int:
    """Parse a whole number >= 0, naming the variable when it is not one."""
    if not value.strip().isdigit():
        raise ValueError(f"{name} must be a whole number >= 0, not {value!r}")
    return int(value)


def fraction(env: dict[str, str], name: str, default: float) -> float:
    """A number between 0 and 1 from the variable `name`, naming it when it is not one."""
    value = env.get(name, str(default))
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not 0.0 <= number <= 1.0:
        raise ValueError(f"{name} must be a number between 0 and 1, not {value!r}")
    return number


def networks(env: dict[str, str], name: str) -> tuple[str, ...]:
    """Comma-separated IP addresses or CIDR networks from `name`, normalised; none by default."""
    found = []
    for part in filter(None, (part.strip() for part in env.get(name, "").split(","))):
        try:
            found.append(str(ipaddress.ip_network(part, strict=False)))
        except ValueError:
            raise ValueError(f"{name}: {part!r} is not an IP address or network") from None
    return tuple(found)


def seconds(env: dict[str, str], name: str, default: float) -> float:
    """A number of seconds above 0 and at most 900 from `name`, naming it when it is not one."""
    value = env.get(name, str(default))
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not 0.0 < number <= 900.0:
        raise ValueError(f"{name} must be seconds, above 0 and at most 900, not {value!r}")
    return number


def domain_names(value: str | None) -> tuple[str, ...] | None:
    """ANSWER_LINK_DOMAINS: comma-separated domain names, lowercased; None when unset."""
    if value is None:
        return None
    names = tuple(n.strip().lower().rstrip(".") for n in value.split(",") if n.strip())
    for name in names:
        labels = name.split(".")
        if len(labels) < 2 or not labels[-1][:1].isalpha() or not all(map(is_label, labels)):
            raise ValueError(
                f"ANSWER_LINK_DOMAINS: {name!r} is not a domain name like example.com"
                " (ASCII; write internationalised names in their xn-- form)"
            )
    return names


def is_label(label: str) -> bool:
    """True for one label of a domain name: 1-63 ASCII letters, digits or inner hyphens."""
    return (
        0 < len(label) <= 63
        and label.isascii()
        and all(c.isalnum() or c == "-" for c in label)
        and not label.startswith("-")
        and not label.endswith("-")
    )


def smtp_settings(env: dict[str, str]) -> Smtp | None:
    """The CONSOLE_SMTP_* variables; None (email off) when CONSOLE_SMTP_HOST is unset."""
    host = env.get("CONSOLE_SMTP_HOST", "").strip()
    if not host:
        return None
    tls = env.get("CONSOLE_SMTP_TLS", "starttls").strip().lower()
    if tls not in SMTP_PORTS:
        raise ValueError(f"CONSOLE_SMTP_TLS must be one of {', '.join(SMTP_PORTS)}, not {tls!r}")
    if tls == "none" and host.lower() not in LOCAL_HOSTS:
        raise ValueError(
            "CONSOLE_SMTP_TLS=none sends the password and the visitors' details in clear:"
            f" only for a server on this machine ({', '.join(sorted(LOCAL_HOSTS))}), not {host!r}"
        )
    port = non_negative_int(env.get("CONSOLE_SMTP_PORT", str(SMTP_PORTS[tls])), "CONSOLE_SMTP_PORT")
    if not 0 < port < 65536:
        raise ValueError(f"CONSOLE_SMTP_PORT must be a port number (1-65535), not {port}")
    sender = env.get("CONSOLE_SMTP_FROM", "").strip()
    if not is_address(sender):
        raise ValueError(
            f"CONSOLE_SMTP_FROM must be one plain address like console@example.com,"
            f" not {sender[:80]!r}"
        )
    username, password = env.get("CONSOLE_SMTP_USERNAME", ""), env.get("CONSOLE_SMTP_PASSWORD", "")
    if bool(username) != bool(password):
        raise ValueError("CONSOLE_SMTP_USERNAME and CONSOLE_SMTP_PASSWORD go together")
    return Smtp(
        host=host,
        port=port,
        tls=tls,
        sender=sender,
        recipients=addresses(env, "CONSOLE_SMTP_TO"),
        username=username,
        password=password,
    )


def addresses(env: dict[str, str], name: str) -> tuple[str, ...]:
    """Comma-separated plain email addresses from `name`, at least one."""
    found = tuple(part.strip() for part in env.get(name, "").split(",") if part.strip())
    for address in found or ("",):
        if not is_address(address):
            raise ValueError(
                f"{name} must be plain addresses like staff@example.com, not {address[:80]!r}"
            )
    return found


def is_address(value: str) -> bool:
    """True for a plain ASCII address like staff@example.com (254 characters at most)."""
    return len(value) <= 254 and bool(ADDRESS.match(value))


def public_url(value: str) -> str:
    """CONSOLE_PUBLIC_URL: the console's address for links in emails (http or https); or ''."""
    value = value.strip().rstrip("/")
    if not value:
        return ""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ValueError(
            f"CONSOLE_PUBLIC_URL must be an http(s) address like https://staff.example.com,"
            f" not {value[:80]!r}"
        )
    return value
