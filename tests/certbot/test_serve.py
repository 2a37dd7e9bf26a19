"""The bot's entry point: Rasa patched, and every app Rasa builds with the app-wide settings."""

from __future__ import annotations

import requests
from sanic import Sanic

from certbot.serve import MAX_REQUEST_BYTES, app_settings, limit_requests, with_app_settings


class Recorder:
    """What a configured app was asked to register."""

    def __init__(self) -> None:
        self.listeners: list[tuple[object, str]] = []

    def register_listener(self, listener: object, event: str) -> None:
        self.listeners.append((listener, event))


def test_every_app_rasa_configures_gets_the_settings_once():
    built: list[Recorder] = []

    def configure_app(*args: object, **kwargs: object) -> Recorder:
        built.append(Recorder())
        return built[-1]

    configure = with_app_settings(with_app_settings(configure_app))
    assert configure("a", port=1) is built[0]
    assert built[0].listeners == [(app_settings, "before_server_start")]


def test_the_settings_cap_requests_and_answer_errors_in_json():
    # Not app_settings itself: its slow-client deadlines must wait for a server to start,
    # and would patch the Sanic of this test process for good.
    app = Sanic("settings_test")
    app.config.REQUEST_MAX_SIZE = 100_000_000
    limit_requests(app)
    assert app.config.REQUEST_MAX_SIZE == MAX_REQUEST_BYTES
    assert app.config.FALLBACK_ERROR_FORMAT == "json"


def test_the_running_bot_was_started_through_the_entry_point(bot):
    log = bot.rasa.log.read_text()
    assert "Rasa 3.6.21 patched: action_fallback" in log
    oversized = requests.post(bot.webhook, data=b" " * (MAX_REQUEST_BYTES + 1), timeout=30)
    assert oversized.status_code == 413
    assert oversized.headers["Content-Type"].startswith("application/json")
