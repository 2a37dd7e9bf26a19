"""The contact request: a form whose completed answers are stored in the conversation."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

MAX_NAME = 100
MAX_EMAIL = 254
MAX_QUESTION = 2000
MIN_QUESTION = 3
FORM_SLOTS = ("contact_name", "contact_email", "contact_question", "contact_consent")
_EMAIL = re.compile(
    r"^[^@\s<>()\[\],;:\"]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}$"
)


def clean_text(value: Any) -> str:
    """Collapse whitespace in a visitor's answer; anything but text becomes empty."""
    return " ".join(value.split()) if isinstance(value, str) else ""


def is_valid_email(value: str) -> bool:
    """A practical check of an address a person can reply to."""
    return len(value) <= MAX_EMAIL and bool(_EMAIL.match(value))


class ValidateContactForm(FormValidationAction):
    """Checks each answer of the contact form and re-asks with a clear message."""

    def name(self) -> str:
        return "validate_contact_form"

    def validate_contact_name(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> dict[str, Any]:
        name = clean_text(slot_value)
        if 0 < len(name) <= MAX_NAME and any(ch.isalpha() for ch in name):
            return {"contact_name": name}
        dispatcher.utter_message(response="utter_invalid_name")
        return {"contact_name": None}

    def validate_contact_email(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> dict[str, Any]:
        email = clean_text(slot_value).strip(".")
        if is_valid_email(email):
            return {"contact_email": email}
        dispatcher.utter_message(response="utter_invalid_email")
        return {"contact_email": None}

    def validate_contact_question(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> dict[str, Any]:
        question = slot_value.strip() if isinstance(slot_value, str) else ""
        if MIN_QUESTION <= len(question) <= MAX_QUESTION:
            return {"contact_question": question}
        dispatcher.utter_message(response="utter_invalid_question")
        return {"contact_question": None}


class ActionSubmitContact(Action):
    """Store the completed request in one `contact_request` slot and clear the form."""

    def name(self) -> str:
        return "action_submit_contact"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        request = {
            "name": tracker.get_slot("contact_name"),
            "email": tracker.get_slot("contact_email"),
            "question": tracker.get_slot("contact_question"),
            "consent": tracker.get_slot("contact_consent") is True,
            "submitted_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
        return [SlotSet("contact_request", request)] + [SlotSet(slot, None) for slot in FORM_SLOTS]


class ActionClearContactForm(Action):
    """Forget the answers of a cancelled contact request, so a later one starts empty."""

    def name(self) -> str:
        return "action_clear_contact_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        return [SlotSet(slot, None) for slot in FORM_SLOTS]
