"""The bot's responses as written in domain.yml, to recognise replies by their text."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

DOMAIN = yaml.safe_load((Path(__file__).resolve().parents[2] / "domain.yml").read_text())


def variants(name: str, **slots: str) -> list[str]:
    """Every text the response can produce, with the given slot values filled in."""
    texts = []
    for variant in DOMAIN["responses"][name]:
        text = variant["text"]
        try:
            texts.append(text.format(**slots))
        except KeyError:
            continue
    return texts


def is_response(reply: dict, name: str, **slots: str) -> bool:
    """True if the reply's text is one of the response's variants."""
    return reply.get("text") in variants(name, **slots)


def matches_response(text: str, name: str) -> bool:
    """True if `text` is one of the response's variants, whatever its slots are filled with."""
    for variant in DOMAIN["responses"][name]:
        parts = re.split(r"\{\w+\}", variant["text"])
        if re.fullmatch(".+".join(map(re.escape, parts)), text, flags=re.DOTALL):
            return True
    return False
