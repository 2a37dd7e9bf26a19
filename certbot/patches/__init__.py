"""Fixes and speed-ups of Rasa 3.6 internals, installed together by `install_all`.

Every process that serves or evaluates the bot installs them: the bot through its entry
point (`python -m certbot.serve`), the evaluation (`make eval`, the retraining's gate)
and the parse helper; so production and evaluation run the same code. Each patch replaces
a method of a Rasa class, written against the version in `TESTED_RASA`: on any other the
patches refuse to install rather than change code they were not tested with.
`slow_clients` patches Sanic and is installed apart, once a server starts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import rasa

from certbot.patches import action_fallback, action_validation, graph_runner, nlu_cache, parse_ahead

TESTED_RASA = "3.6.21"

logger = logging.getLogger(__name__)

_installed: list[str] = []


class UntestedRasa(RuntimeError):
    """The installed Rasa is not the version the patches were written and tested for."""


def install_all(rasa_version: str = rasa.__version__) -> list[str]:
    """Install every patch once per process; the names of those installed.

    Order matters: the parse cache wraps parsing ahead, so a text understood before
    skips the graph.
    """
    if rasa_version != TESTED_RASA:
        raise UntestedRasa(
            f"certbot's patches are tested with Rasa {TESTED_RASA}, not {rasa_version}: "
            f"pin rasa=={TESTED_RASA} (requirements.txt) or re-check certbot/patches/"
        )
    if _installed:
        return list(_installed)
    patches: dict[str, Callable[[], object]] = {
        "action_fallback": action_fallback.install,
        "action_validation": action_validation.install,
        "parse_ahead": parse_ahead.install,
        "nlu_cache": nlu_cache.install,
        "graph_runner": graph_runner.install,
    }
    for name, install in patches.items():
        install()
        _installed.append(name)
    logger.info("Rasa %s patched: %s (certbot/patches/)", rasa_version, ", ".join(_installed))
    return list(_installed)
