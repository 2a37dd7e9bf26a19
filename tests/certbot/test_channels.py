import json

import pytest

from certbot.channels import MAX_BODY_BYTES, MAX_MESSAGE_CHARS, request_error


def body(**payload) -> bytes:
    return json.dumps(payload).encode()


@pytest.mark.parametrize(
    "payload",
    [
        body(sender="a", message="who issues certificates?"),
        body(message=""),
        body(sender="a", message="x" * MAX_MESSAGE_CHARS, metadata={"page": "/faq"}),
    ],
)
def test_acceptable_requests(payload):
    assert request_error(payload) is None


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        (b"", 400),
        (b"{not json", 400),
        (b"\xff\xfe", 400),
        (b"[]", 400),
        (b'"text"', 400),
        (body(sender="a"), 400),
        (body(sender="a", message=5), 400),
        (body(sender=["a"], message="hi"), 400),
        (body(sender="a" * 129, message="hi"), 400),
        (body(sender="a", message="hi", metadata="x"), 400),
        (body(sender="a", message="x" * (MAX_MESSAGE_CHARS + 1)), 413),
        (b" " * (MAX_BODY_BYTES + 1), 413),
    ],
)
def test_rejected_requests(payload, status):
    error = request_error(payload)
    assert error is not None
    assert error[0] == status
    assert error[1]
