"""Whole-number settings of the bot read from the environment."""

from __future__ import annotations

import os


def count_setting(name: str, default: int, least: int) -> int:
    """Environment variable `name` as a whole number (`default` when unset).

    ValueError when it is not a whole number or is below `least`.
    """
    value = int(os.environ.get(name, default))
    if value < least:
        raise ValueError(f"{name} must be {least} or more, not {value}")
    return value
