import json
from types import SimpleNamespace

import pytest
from sanic import Sanic
from sanic.compat import Header
from sanic.request import Request

from certbot.channels.conversation_ids import PREFIX, is_issued, issue
from certbot.channels.failures import failure_summary
from certbot.channels.rest import (
    MAX_BODY_BYTES,
    MAX_MESSAGE_CHARS,
    RequestRejected,
    ValidatedRestInput,
    parse_webhook_body,
)
from certbot.channels.widget import NOT_ISSUED_CODE, WidgetInput

APP = Sanic("test_channels")
METADATA = b'{"sender": "a", "message": "hi", "metadata": '


def body(**payload) -> bytes:
    return json.dumps(payload).encode()


@pytest.mark.parametrize(
    "payload",
    [
        body(sender="a", message="who issues certificates?"),
        body(sender="a", message="x" * MAX_MESSAGE_CHARS, metadata={}),
        body(sender="a", message='/feedback{"rating": "down"}', metadata={"feedback_for": "No."}),
        body(sender="a", message="/session_start"),
        body(sender="a", message='/greet{"standard": "ISO/IEC 17025"}'),
        body(sender="a", message="1/2 of our sites are certified"),
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
        (body(message="hi"), 400),
        (body(sender="", message="hi"), 400),
        (body(sender=None, message="hi"), 400),
        (body(sender="a", message="hi", metadata={"feedback_for": {"a": 1}}), 400),
        (body(sender="a", message="hi", metadata={"feedback_for": "x" * 2001}), 400),
        (body(sender="a", message="hi", metadata={"page": "/faq"}), 400),
        (b'{"sender": "a", "message": "hi", "metadata": ' + b"[" * 5000 + b"]" * 5000 + b"}", 400),
        (
            b'{"sender": "a", "message": "hi", "metadata": ' + b'{"a":' * 980 + b"1" + b"}" * 981,
            400,
        ),
        (body(sender="a", message='/greet{"standard": "ISO 9001 [x](https://evil.example)"}'), 400),
        (body(sender="a", message='/greet{"standard": "iso9001"}'), 400),
        (body(sender="a", message='/feedback{"rating": "<b>down</b>"}'), 400),
        (body(sender="a", message='/feedback{"rating": ["down"]}'), 400),
        (body(sender="a", message='/greet{"contact_email": "a@b.example"}'), 400),
        (body(sender="a", message='/greet[{"entity": "standard", "value": "x"}]'), 400),
        (body(sender="a", message="/faq@0.99"), 400),
        (body(sender="a", message="/greet{not json"), 400),
        (body(sender="a", message="/"), 400),
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


@pytest.mark.parametrize("payload", [body(message="hi"), body(sender=None, message="hi")])
def test_the_sender_may_be_left_out_where_it_is_not_required(payload):
    assert parse_webhook_body(payload, sender_required=False)["message"] == "hi"


@pytest.mark.parametrize("sender", ["", " ", 5, ["a"], "a" * 129])
def test_a_sender_that_is_given_must_still_be_well_formed(sender):
    with pytest.raises(RequestRejected) as rejected:
        parse_webhook_body(body(sender=sender, message="hi"), sender_required=False)
    assert rejected.value.status == 400


def webhook_request(payload: bytes, app: Sanic = APP) -> Request:
    """A Sanic request to the REST webhook carrying `payload`."""
    request = Request(b"/webhooks/rest/webhook", Header({}), "1.1", "POST", None, app)
    request.body = payload
    return request


def test_rest_channel_limits_each_ip_address():
    APP.ctx = SimpleNamespace()
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
    APP.ctx = SimpleNamespace()
    channel = ValidatedRestInput(max_messages_per_visitor=1, max_messages_per_ip=100)
    channel.check_webhook_request(webhook_request(body(sender="a", message="hi")))
    channel.check_webhook_request(webhook_request(body(sender="b", message="hi")))
    with pytest.raises(RequestRejected) as rejected:
        channel.check_webhook_request(webhook_request(body(sender="a", message="again")))
    assert rejected.value.status == 429


def test_channels_of_one_app_share_each_budget():
    APP.ctx = SimpleNamespace()
    rest = ValidatedRestInput(max_messages_per_visitor=100, max_messages_per_ip=3)
    widget = WidgetInput(max_messages_per_visitor=100, max_messages_per_ip=3)
    rest.check_webhook_request(webhook_request(body(sender="v0", message="hi")))
    widget.check_webhook_request(webhook_request(body(message="hi")))
    rest.check_webhook_request(webhook_request(body(sender="v2", message="hi")))
    for request in (body(sender="v9", message="hi"), body(message="hi")):
        channel = rest if b"sender" in request else widget
        with pytest.raises(RequestRejected) as rejected:
            channel.check_webhook_request(webhook_request(request))
        assert rejected.value.status == 429


def test_the_widget_issues_a_conversation_id_to_a_message_without_one():
    APP.ctx = SimpleNamespace()
    widget = WidgetInput()
    payload = widget.check_webhook_request(webhook_request(body(message="hi")))
    assert is_issued(widget.secret, payload["sender"])
    again = widget.check_webhook_request(webhook_request(body(message="hi")))
    assert again["sender"] != payload["sender"]


def test_the_widget_continues_the_conversation_of_an_issued_id():
    APP.ctx = SimpleNamespace()
    widget = WidgetInput()
    issued = widget.check_webhook_request(webhook_request(body(message="hi")))["sender"]
    payload = widget.check_webhook_request(webhook_request(body(sender=issued, message="hi")))
    assert payload["sender"] == issued


@pytest.mark.parametrize(
    "sender",
    [
        "visitor-42",
        f"{PREFIX}.abc.def",
        pytest.param(issue("another key"), id="issued-with-another-key"),
        "default",
        "x" * 128,
    ],
)
def test_the_widget_refuses_ids_it_did_not_issue(sender):
    APP.ctx = SimpleNamespace()
    with pytest.raises(RequestRejected) as rejected:
        WidgetInput().check_webhook_request(webhook_request(body(sender=sender, message="hi")))
    assert rejected.value.status == 403
    assert rejected.value.code == NOT_ISSUED_CODE
    assert json.loads(rejected.value.response().body)["code"] == NOT_ISSUED_CODE


def test_a_widget_visitor_is_limited_by_its_issued_id():
    APP.ctx = SimpleNamespace()
    widget = WidgetInput(max_messages_per_visitor=2, max_messages_per_ip=100)
    issued = widget.check_webhook_request(webhook_request(body(message="hi")))["sender"]
    widget.check_webhook_request(webhook_request(body(sender=issued, message="hi")))
    with pytest.raises(RequestRejected) as rejected:
        widget.check_webhook_request(webhook_request(body(sender=issued, message="hi")))
    assert rejected.value.status == 429
    widget.check_webhook_request(webhook_request(body(message="hi")))  # someone else


def test_new_widget_conversations_do_not_escape_the_address_limit():
    APP.ctx = SimpleNamespace()
    widget = WidgetInput(max_messages_per_visitor=100, max_messages_per_ip=3)
    for _ in range(3):
        widget.check_webhook_request(webhook_request(body(message="hi")))
    with pytest.raises(RequestRejected) as rejected:
        widget.check_webhook_request(webhook_request(body(message="hi")))
    assert rejected.value.status == 429
    assert 1 <= int(rejected.value.headers["Retry-After"]) <= 60


def test_a_failure_summary_names_the_error_not_its_values():
    try:
        raise ValueError("INSERT ... parameters: ('dana@example.com',)")
    except ValueError as error:
        summary = failure_summary(error)
    assert "dana@example.com" not in summary
    assert summary.startswith("builtins.ValueError at ")
    assert "test_a_failure_summary_names_the_error_not_its_values" in summary


def test_rest_refuses_the_ids_the_bot_issues_for_socketio_and_the_widget():
    APP.ctx = SimpleNamespace()
    channel = ValidatedRestInput()
    with pytest.raises(RequestRejected) as rejected:
        channel.check_webhook_request(webhook_request(body(sender=issue("k"), message="hi")))
    assert rejected.value.status == 403
