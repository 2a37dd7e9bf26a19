"""Typed reading of tracker events: every field as the type the console needs, or empty.

Events hold what anonymous visitors and clients sent (text, metadata, entity values, slot
values), so any field can be any JSON value. Every reader of events takes its fields
through these functions: a field of the wrong type or shape becomes "", None or empty,
never an exception, and text is safe to encode (no NUL, no lone surrogate).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

# Timestamps the console can show: from 1970 to the end of year 9999 (datetime's range).
MAX_TIMESTAMP = 253_402_300_799.0
UNSAFE = re.compile("[\x00\ud800-\udfff]")


def mapping(value: object) -> Mapping[str, Any]:
    """`value` if it is a JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}


def items(value: object) -> list[Any]:
    """`value` if it is a JSON array, else an empty list."""
    return value if isinstance(value, list) else []


def text(value: object) -> str:
    """`value` if it is a string (NUL and lone surrogates replaced by U+FFFD), else ''."""
    if not isinstance(value, str):
        return ""
    if UNSAFE.search(value) is None:
        return value
    # Surrogate pairs become their character; what remains unpaired is replaced.
    paired = value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return paired.replace("\x00", "\ufffd")


def name(value: object) -> str | None:
    """A non-empty string (see `text`), else None."""
    return text(value) or None


def number(value: object) -> float | None:
    """A finite number as a float (not a boolean, not a numeric string), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        result = float(value)
    except OverflowError:  # an integer beyond a float's range
        return None
    return result if math.isfinite(result) else None


def fraction(value: object) -> float | None:
    """A number from 0 to 1 (a confidence), else None."""
    result = number(value)
    return result if result is not None and 0.0 <= result <= 1.0 else None


def timestamp(value: object) -> float | None:
    """A Unix timestamp from 1970 to year 9999, else None."""
    result = number(value)
    return result if result is not None and 0.0 <= result <= MAX_TIMESTAMP else None


def scalar_text(value: object) -> str:
    """A string, number or boolean as text (see `text`); '' for anything else."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return "" if number(value) is None else repr(value)
    return text(value)
