import pytest
from jsonschema import ValidationError, validate
from rasa.core.actions.action import RemoteAction

from certbot.patches import action_validation

RESPONSES = [
    {"events": [{"event": "slot", "name": "standard", "value": None}], "responses": []},
    {"events": [], "responses": [{"text": "hi", "buttons": [{"title": "a", "payload": "b"}]}]},
    {},
    {"events": "not a list"},
    {"events": [{"event": "no_such_event"}]},
    {"responses": [{"text": 3}]},
]


def rasa_verdict(response):
    try:
        validate(response, RemoteAction.action_response_format_spec())
        return "valid"
    except ValidationError as error:
        return error.message


@pytest.mark.parametrize("response", RESPONSES)
def test_same_verdict_as_rasas_check(monkeypatch, response):
    monkeypatch.setattr(
        RemoteAction, "_validate_action_result", RemoteAction._validate_action_result
    )
    expected = rasa_verdict(response)
    action_validation.install()
    action = RemoteAction("action_extract_standard", None)
    if expected == "valid":
        assert action._validate_action_result(response) is True
    else:
        with pytest.raises(ValidationError) as raised:
            action._validate_action_result(response)
        assert raised.value.message.startswith(expected + ". Failed to validate")


def test_the_schema_is_checked_once():
    assert action_validation.response_validator() is action_validation.response_validator()


def test_install_replaces_rasas_check(monkeypatch):
    monkeypatch.setattr(
        RemoteAction, "_validate_action_result", RemoteAction._validate_action_result
    )
    action_validation.install()
    assert RemoteAction._validate_action_result is action_validation.validate_action_result
