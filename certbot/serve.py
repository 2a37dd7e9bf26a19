"""The bot's one entry point: `python -m certbot.serve COMMAND ...`, Rasa's own command line.

`make run`, `make scale`, `make shell`, `make test-stories`, the tests and the benchmark
start the bot this way (`run`, `shell`, `test` and their usual arguments), never with the
bare `rasa` command, so every one of them runs with:
- the patches of Rasa's internals (`certbot.patches.install_all`);
- app-wide settings of every Sanic app Rasa builds: request bodies capped at
  `MAX_REQUEST_BYTES` (413 from the Content-Length, before the body is read), Sanic's own
  errors in JSON, and deadlines for slow clients (`certbot.patches.slow_clients`).
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from typing import Any

import rasa.core.run
from rasa.__main__ import main as rasa_main
from sanic import Sanic

from certbot.patches import install_all, slow_clients

# Sanic's default is 100 MB, read into memory before any handler runs; socket.io's own
# limit per message is 1,000,000 bytes, which this keeps working.
MAX_REQUEST_BYTES = 1_000_000


def limit_requests(app: Sanic) -> None:
    """Cap request bodies (413 from the Content-Length) and answer Sanic's errors in JSON."""
    app.config.REQUEST_MAX_SIZE = min(app.config.REQUEST_MAX_SIZE, MAX_REQUEST_BYTES)
    app.config.FALLBACK_ERROR_FORMAT = "json"


async def app_settings(app: Sanic, _loop: object) -> None:
    """Listener (`before_server_start`): request limits, then the slow-client deadlines.

    The deadlines patch Sanic's connection handling, which Sanic recompiles while it
    starts: they are installed here, once it has (certbot/patches/slow_clients.py).
    """
    limit_requests(app)
    slow_clients.install()


def with_app_settings(configure_app: Callable[..., Sanic]) -> Callable[..., Sanic]:
    """Rasa's `configure_app`, its app registering `app_settings`."""
    if getattr(configure_app, "certbot_settings", False):
        return configure_app

    @functools.wraps(configure_app)
    def configure(*args: Any, **kwargs: Any) -> Sanic:
        app = configure_app(*args, **kwargs)
        app.register_listener(app_settings, "before_server_start")
        return app

    configure.certbot_settings = True  # type: ignore[attr-defined]
    return configure


def install_and_say() -> None:
    """Install the patches, saying which on stderr (Rasa configures logging only later)."""
    patches_log = logging.getLogger("certbot.patches")
    say = logging.StreamHandler()
    say.setFormatter(logging.Formatter("%(asctime)s %(levelname)-8s %(name)s  - %(message)s"))
    patches_log.addHandler(say)
    patches_log.setLevel(logging.INFO)
    try:
        install_all()
    finally:
        patches_log.removeHandler(say)
        patches_log.setLevel(logging.NOTSET)


def main(argv: list[str] | None = None) -> None:
    """Patch Rasa, then run its command line with `argv` (default: this process's)."""
    install_and_say()
    rasa.core.run.configure_app = with_app_settings(rasa.core.run.configure_app)
    sys.argv = ["rasa", *(sys.argv[1:] if argv is None else argv)]
    rasa_main()


if __name__ == "__main__":
    main()
