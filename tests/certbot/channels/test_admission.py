"""At most a few messages are in progress at once, and they start in arrival order."""

from __future__ import annotations

import asyncio

import pytest
from rasa.core.channels.channel import UserMessage

from certbot.channels import admission


async def test_messages_wait_their_turn_in_arrival_order():
    running, most, started = 0, 0, []

    async def handler(message: UserMessage) -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        started.append(message.text)
        await asyncio.sleep(0.01)  # waiting for the action server, say
        running -= 1

    handle = admission.admit(handler, limit=2)
    texts = [f"message {i}" for i in range(7)]
    await asyncio.gather(*(handle(UserMessage(text)) for text in texts))
    assert most == 2
    assert started == texts


async def test_a_failing_message_frees_its_turn():
    async def handler(message: UserMessage) -> None:
        raise RuntimeError(message.text)

    handle = admission.admit(handler, limit=1)
    for text in ("first", "second"):
        with pytest.raises(RuntimeError, match=text):
            await asyncio.wait_for(handle(UserMessage(text)), timeout=5)


@pytest.mark.parametrize("value", ["0", "-2", "some", "1.5"])
def test_a_bad_limit_setting_is_refused(monkeypatch, value):
    monkeypatch.setenv(admission.LIMIT_VARIABLE, value)
    with pytest.raises(ValueError):
        admission.limit_from_environment()
