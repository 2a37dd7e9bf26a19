import random

import yaml

from bench.bots import BENCH_ORIGIN, CONSENT, LOCK_STORE, REQUEST_HUMAN, our_bot, our_conversations
from bench.messages import NewTextVisitors, SentTexts
from certbot.tools.evaluate import load_held_out


def test_our_visitors_ask_held_out_questions_or_fill_the_contact_form():
    held_out = {text for text, _ in load_held_out()}
    draw, rng = our_conversations(), random.Random(1)
    conversations = [draw(rng) for _ in range(200)]
    contacts = [c for c in conversations if c[0] == REQUEST_HUMAN]
    others = [c for c in conversations if c not in contacts]
    assert {len(c) for c in others} == {2, 4}
    assert all(text in held_out for c in others for text in c)
    assert {len(c) for c in contacts} == {5} and all(c[-1] == CONSENT for c in contacts)
    names, emails = {c[1] for c in contacts}, {c[2] for c in contacts}
    assert len(names) > 10 and len(emails) == len(contacts)  # each visitor their own
    assert all("@" in email for email in emails)


def test_our_bot_allows_the_bench_origin_and_raises_the_limits(tmp_path):
    sent = SentTexts()
    bot = our_bot(tmp_path, tmp_path / "model.tar.gz", sent)
    widget = yaml.safe_load((tmp_path / "credentials.yml").read_text())[
        "certbot.channels.widget.WidgetInput"
    ]
    assert widget["allowed_origins"] == [BENCH_ORIGIN]
    assert widget["max_messages_per_visitor"] >= 100_000
    assert widget["max_messages_per_ip"] >= 100_000
    endpoints = yaml.safe_load((tmp_path / "endpoints.yml").read_text())
    assert endpoints["tracker_store"]["db"] == str(tmp_path / "conversations.db")
    assert "lock_store" not in endpoints
    assert bot.endpoint.url.endswith("/webhooks/widget/webhook")
    assert bot.endpoint.headers == {"Content-Type": "text/plain", "Origin": BENCH_ORIGIN}
    assert bot.endpoint.issues_ids
    assert [service.name for service in bot.services] == ["actions", "bot"]
    assert list(bot.loads) == ["new", "repeated"]
    assert isinstance(bot.loads["new"], NewTextVisitors) and bot.loads["new"].sent is sent


def test_several_bot_workers_get_the_redis_lock_store(tmp_path):
    bot = our_bot(tmp_path, tmp_path / "model.tar.gz", SentTexts(), bot_workers=2, action_workers=3)
    endpoints = yaml.safe_load((tmp_path / "endpoints.yml").read_text())
    assert endpoints["lock_store"]["type"] == LOCK_STORE
    actions, server = bot.services
    assert server.env["SANIC_WORKERS"] == "2"
    assert actions.env["ACTION_SERVER_SANIC_WORKERS"] == "3"
