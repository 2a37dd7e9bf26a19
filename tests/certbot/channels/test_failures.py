"""Failures noted while a message is handled become the webhook's JSON error."""

from __future__ import annotations

import json

import pytest
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.lock_store import LockError
from sanic.response import HTTPResponse
from sqlalchemy.exc import OperationalError

from certbot.channels.failures import apply_failure, forget_failure, note_failure, remember_failures


def reply() -> HTTPResponse:
    return HTTPResponse(body=b"[]", status=200, content_type="application/json")


@pytest.fixture(autouse=True)
def fresh():
    forget_failure()
    yield
    forget_failure()


def test_no_failure_leaves_the_reply_alone():
    response = reply()
    apply_failure(response)
    assert (response.status, response.body) == (200, b"[]")


@pytest.mark.parametrize(
    "error",
    [OperationalError("SELECT", {}, Exception("down")), LockError("busy"), OSError(28, "full")],
)
def test_storage_errors_become_503_with_retry_after(error):
    note_failure(error)
    response = reply()
    apply_failure(response)
    assert response.status == 503
    assert response.headers["Retry-After"] == "5"
    assert "temporarily unavailable" in json.loads(response.body)["error"]


async def test_a_handler_error_becomes_500_and_is_forgotten_afterwards():
    async def broken(message: UserMessage) -> None:
        raise ValueError("bug")

    with pytest.raises(ValueError):
        await remember_failures(broken)(UserMessage("hi", CollectingOutputChannel(), "v"))
    response = reply()
    apply_failure(response)
    assert response.status == 500
    assert json.loads(response.body) == {"error": "the bot could not handle this message"}
    again = reply()
    apply_failure(again)
    assert again.status == 200


def test_the_first_failure_noted_wins():
    note_failure(LockError("busy"))
    note_failure(ValueError("later"))
    response = reply()
    apply_failure(response)
    assert response.status == 503
