"""What every request handler works with, built once per app."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from console.catalogue import IntentChoice, load_catalogue
from console.markdown import widget_html
from console.ratelimit import LoginLimiter
from console.settings import Settings
from console.tables import Database
from console.tracker import ConversationSource

TEMPLATES = Path(__file__).parent / "templates"


@dataclass
class Services:
    """Settings, databases, intent catalogue, login limiter and templates."""

    settings: Settings
    db: Database
    source: ConversationSource
    catalogue: list[IntentChoice]
    limiter: LoginLimiter
    templates: Environment

    @classmethod
    def build(cls, settings: Settings) -> Services:
        """Connect to both databases and load the domain."""
        return cls(
            settings=settings,
            db=Database(settings.db_url),
            source=ConversationSource.from_files(settings.endpoints, settings.domain),
            catalogue=load_catalogue(settings.domain),
            limiter=LoginLimiter(),
            templates=template_environment(),
        )

    @property
    def intent_names(self) -> set[str]:
        """Names of the assignable intents."""
        return {choice.name for choice in self.catalogue}


def template_environment() -> Environment:
    """Jinja2 with autoescaping for every template."""
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["when"] = format_time
    environment.filters["segment"] = path_segment
    environment.filters["widget"] = widget_html
    return environment


def path_segment(value: object) -> str:
    """A value as one URL path segment: every reserved character percent-encoded, `/` too."""
    return quote(str(value), safe="")


def format_time(moment: object) -> Markup | str:
    """A Unix timestamp, datetime or ISO text as `<time>` reading '3 Dec 2026, 14:05 UTC'.

    Its `datetime` attribute keeps the moment, which console.js shows in the viewer's time
    zone. Anything that is no time is shown as it is.
    """
    if moment is None or moment == "":
        return ""
    try:
        if isinstance(moment, int | float):
            when = datetime.fromtimestamp(moment, timezone.utc)
        elif isinstance(moment, str):
            when = datetime.fromisoformat(moment.replace("Z", "+00:00"))
        elif isinstance(moment, datetime):
            when = moment
        else:
            return str(moment)
        when = (when if when.tzinfo else when.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)
    except (ValueError, OverflowError, OSError):
        return str(moment)
    return Markup('<time datetime="{}">{}</time>').format(
        when.isoformat(timespec="seconds"), f"{when.day} {when:%b %Y, %H:%M} UTC"
    )
