import json

import pytest
from aiohttp import web

from bench.load import Endpoint, LoadResult, first_reply, percentile, run_load


def test_percentile_is_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50
    assert percentile(values, 99) == 99
    assert percentile([7.0], 95) == 7
    assert percentile([], 99) == 0


def test_summary_counts_answered_lost_and_errors():
    result = LoadResult(seconds=2, latencies_ms=[10.0, 20.0])
    result.outcomes.update({"ok": 2, "lost": 1, "http_500": 3, "timeout": 1})
    summary = result.summary()
    assert summary["throughput"] == 1
    assert summary["messages"] == 7
    assert (summary["errors"], summary["lost"]) == (4, 1)
    assert summary["error_kinds"] == {"http_500": 3, "timeout": 1}


def test_summary_gives_the_share_of_repeated_texts():
    result = LoadResult(seconds=1)
    result.texts.update({"hello": 3, "thanks": 1})
    assert result.summary()["repeated_text_pct"] == 50.0
    assert LoadResult().summary()["repeated_text_pct"] == 0.0


async def start_bot():
    """A stand-in bot on a real port: echoes, answers "silence" with [], "boom" with 500.

    A message without a sender gets a new conversation id in `X-Conversation-Id`, as our
    widget channel issues them.
    """
    received = []
    issued = []

    async def webhook(request):
        body = json.loads(await request.text())
        received.append((request.headers.get("Origin"), body.get("sender"), body["message"]))
        sender = body.get("sender")
        if sender is None:
            issued.append(sender := f"issued-{len(issued)}")
        headers = {"X-Conversation-Id": sender}
        if body["message"] == "boom":
            return web.json_response({"error": "boom"}, status=500, headers=headers)
        if body["message"] == "silence":
            return web.json_response([], headers=headers)
        return web.json_response(
            [{"recipient_id": sender, "text": body["message"]}], headers=headers
        )

    app = web.Application()
    app.router.add_post("/webhook", webhook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    return runner, f"http://127.0.0.1:{port}/webhook", received


async def test_visitors_send_their_conversations_and_outcomes_are_counted():
    runner, url, received = await start_bot()
    try:
        endpoint = Endpoint(url, {"Content-Type": "text/plain", "Origin": "http://x.example"})
        result = await run_load(
            endpoint, lambda rng: ["hello", "silence", "boom"], visitors=3, seconds=0.5, label="t"
        )
    finally:
        await runner.cleanup()
    summary = result.summary()
    assert summary["messages"] == len(received) > 9
    assert summary["lost"] == sum(m == "silence" for _, _, m in received)
    assert summary["error_kinds"] == {"http_500": sum(m == "boom" for _, _, m in received)}
    assert {origin for origin, _, _ in received} == {"http://x.example"}
    # each visitor keeps its conversation's order under its own sender ids
    for sender in {s for _, s, _ in received}:
        texts = [m for _, s, m in received if s == sender]
        assert texts == ["hello", "silence", "boom"][: len(texts)]
    assert len({s.rsplit("-", 1)[0] for _, s, _ in received}) == 3


async def test_a_bot_issuing_ids_gets_no_sender_first_then_the_id_it_issued():
    runner, url, received = await start_bot()
    try:
        endpoint = Endpoint(url, issues_ids=True)
        result = await run_load(
            endpoint, lambda rng: ["hello", "silence", "thanks"], visitors=2, seconds=0.5, label="t"
        )
    finally:
        await runner.cleanup()
    assert result.summary()["errors"] == 0
    assert all(s is None for _, s, m in received if m == "hello")
    later = [(s, m) for _, s, m in received if m != "hello"]
    assert later and all(s and s.startswith("issued-") for s, _ in later)
    for sender in {s for s, _ in later}:
        assert [m for s, m in later if s == sender] in (["silence"], ["silence", "thanks"])


async def test_first_reply_waits_for_an_answer():
    runner, url, received = await start_bot()
    try:
        await first_reply(Endpoint(url), "hello", lambda: True, give_up_after=5)
    finally:
        await runner.cleanup()
    assert received[-1][2] == "hello"


async def test_first_reply_gives_up_when_the_server_exits():
    with pytest.raises(RuntimeError, match="exited"):
        await first_reply(Endpoint("http://127.0.0.1:9/webhook"), "hi", lambda: False, 5)
