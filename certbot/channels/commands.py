"""Intent commands a visitor can type (`/feedback{"rating": "down"}`), checked like the NLU.

Rasa takes a message starting with "/" as an intent with its entities, unchecked: a
visitor typing `/greet{"standard": "ISO 9001 [log in](https://evil.example)"}` set the
`standard` slot to that text and the next answer echoed the link. The channels accept a
command's entities only as the bot's own components would produce them: `rating` is
"up" or "down" (the widget's feedback buttons), `standard` is a standard name spelt
canonically (certbot.nlu.standard_names); other entities, other shapes and Rasa's
`@confidence` suffix are refused. Commands without entities (`/session_start`) pass.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from certbot.nlu.standard_names import normalise_standard

COMMAND_PREFIX = "/"
# Rasa's own split of a command: intent, optional @confidence, optional entities.
_COMMAND = re.compile(r"^/(?P<intent>[^{@]+)(?P<confidence>@[^{]*)?(?P<entities>[{\[].*)?$", re.S)


def _rating(value: Any) -> bool:
    return value in ("up", "down")


def _standard(value: Any) -> bool:
    return isinstance(value, str) and normalise_standard(value) == value


ENTITY_CHECKS: dict[str, Callable[[Any], bool]] = {"rating": _rating, "standard": _standard}


def command_problem(text: str) -> str | None:
    """Why a typed command cannot be accepted, or None (also for text that is no command)."""
    if not text.startswith(COMMAND_PREFIX):
        return None
    match = _COMMAND.match(text.strip())
    if match is None:
        return "the command has no intent name"
    if match["confidence"] is not None:
        return "commands cannot set a confidence"
    if match["entities"] is None:
        return None
    try:
        entities = json.loads(match["entities"])
    except (ValueError, RecursionError):
        return "the command's entities are not valid JSON"
    if not isinstance(entities, dict):
        return "the command's entities must be a JSON object"
    for name, value in entities.items():
        check = ENTITY_CHECKS.get(name)
        if check is None:
            return f"unknown entity {name!r} in the command"
        if not check(value):
            return f"invalid value for the entity {name!r}"
    return None
