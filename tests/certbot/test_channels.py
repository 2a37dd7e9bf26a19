import json

import pytest
from sanic import Sanic
from sanic.compat import Header
from sanic.request import Request

from certbot.channels import (
    MAX_BODY_BYTES,
    MAX_MESSAGE_CHARS,
    RequestRejected,
    ValidatedRestInput,
    parse_webhook_body,
)

APP = Sanic("test_channels")


def body(**payload) -> bytes:
    return json.dumps(payload).encode()


@pytest.mark.parametrize(
    "payload",
    [
        body(sender="a", message="who issues certificates?"),
        body(message="hi"),
        body(sender="a", message="x" * MAX_MESSAGE_CHARS, metadata={"page": "/faq"}),
    ],
)
def test_acceptable_requests(payload):
    assert parse_webhook_body(payload) == json.loads(payload)


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        (b"", 400),
        (b"{not json", 400),
        (b"\xff\xfe", 400),
        (b"[]", 400),
        (b'"text"', 400),
        (body(sender="a"), 400),
        (body(sender="a", message=""), 400),
        (body(sender="a", message=" \n\t "), 400),
        (body(sender="a", message=5), 400),
        (body(sender=["a"], message="hi"), 400),
        (body(sender="a" * 129, message="hi"), 400),
        (body(sender="a", message="hi", metadata="x"), 400),
        (body(sender="a", message="x" * (MAX_MESSAGE_CHARS + 1)), 413),
        (b" " * (MAX_BODY_BYTES + 1), 413),
    ],
)
def test_rejected_requests(payload, status):
    with pytest.raises(RequestRejected) as rejected:
        parse_webhook_body(payload)
    assert rejected.value.status == status
    assert rejected.value.reason


def test_the_message_limit_is_a_parameter():
    with pytest.raises(RequestRejected):
        parse_webhook_body(body(message="x" * 2001), max_message_chars=2000)


def webhook_request(payload: bytes) -> Request:
    """A Sanic request to the REST webhook carrying `payload`."""
    request = Request(b"/webhooks/rest/webhook", Header({}), "1.1", "POST", None, APP)
    request.body = payload
    return request


def test_rest_channel_limits_each_ip_address():
    channel = ValidatedRestInput.from_credentials(
        {"max_messages_per_ip": 2, "max_messages_per_visitor": 100}
    )
    for sender in ("a", "b"):
        channel.check_webhook_request(webhook_request(body(sender=sender, message="hi")))
    with pytest.raises(RequestRejected) as rejected:
        channel.check_webhook_request(webhook_request(body(sender="c", message="hi")))
    assert rejected.value.status == 429
    assert 1 <= int(rejected.value.headers["Retry-After"]) <= 60


def test_rest_channel_limits_each_visitor():
    channel = ValidatedRestInput(max_messages_per_visitor=1, max_messages_per_ip=100)
    channel.check_webhook_request(webhook_request(body(sender="a", message="hi")))
    channel.check_webhook_request(webhook_request(body(sender="b", message="hi")))
    with pytest.raises(RequestRejected) as rejected:
        channel.check_webhook_request(webhook_request(body(sender="a", message="again")))
    assert rejected.value.status == 429
