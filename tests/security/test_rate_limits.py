"""The REST channel is as public as the widget's: the same per-visitor limit on a real bot."""

from __future__ import annotations

import uuid

import requests


def test_a_rest_client_sending_too_fast_is_rate_limited(bot):
    sender = f"rest-limit-{uuid.uuid4().hex[:8]}"
    body = {"sender": sender, "message": "hello"}
    statuses = [requests.post(bot.webhook, json=body, timeout=30).status_code for _ in range(20)]
    assert statuses == [200] * 20
    limited = requests.post(bot.webhook, json=body, timeout=30)
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert "wait" in limited.json()["error"]
    other = requests.post(bot.webhook, json={**body, "sender": sender + "-2"}, timeout=30)
    assert other.status_code == 200
