"""The bot's responses as written in domain.yml, to recognise replies by their text."""

from __future__ import annotations

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
