"""Check action server responses with a JSON-schema validator built once.

Rasa 3.6 checks every action server response with `jsonschema.validate(response, spec)`,
which first validates the constant response schema itself against the JSON Schema
meta-schema. When the bot still called the action server on every visitor message, that
meta-check took about a third of its CPU under load (docs/performance.md); it now calls it
for its custom actions (the session greeting, did-you-mean, the contact form's validation
and submission), and each response's check took 24.5 ms of CPU against 0.35 ms with the
compiled validator (2026-12-07, a busy 2-core machine). `install` makes Rasa check
responses against the same schema with a validator compiled once; an invalid response
raises the same `ValidationError`.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from jsonschema import ValidationError
from jsonschema.exceptions import best_match
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL


@cache
def response_validator() -> Validator:
    """The validator of Rasa's action server response schema (checked once)."""
    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def validate_action_result(action: RemoteAction, result: dict[str, Any]) -> bool:
    """What `RemoteAction._validate_action_result` does, without re-checking the schema."""
    error: ValidationError | None = best_match(response_validator().iter_errors(result))
    if error is not None:
        error.message += (
            ". Failed to validate Action server response from API, make sure your response "
            f"from the Action endpoint is valid. For more information about the format "
            f"visit {DOCS_BASE_URL}/custom-actions"
        )
        raise error
    return True


def install() -> None:
    """Make every remote action (subclasses too) validate responses this way."""
    RemoteAction._validate_action_result = validate_action_result
