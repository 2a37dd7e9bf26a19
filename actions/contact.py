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
MAX_NAME_WORDS = 6
# Intents of a visitor message that carry the question a contact request is about; a
# request for a person ("I'd like to talk to someone") carries none.
QUESTION_INTENTS = {"ask_quote", "faq", "needs_person", "nlu_fallback", "out_of_scope"}
FORM_SLOTS = ("contact_name", "contact_email", "contact_question", "contact_consent")
_EMAIL = re.compile(
    r"^[^@\s<>()\[\],;:\"]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}$"
)


def clean_text(value: Any) -> str:
    """Collapse whitespace in a visitor's answer; anything but text becomes empty."""
    return " ".join(value.split()) if isinstance(value, str) else ""


def looks_like_a_name(value: str) -> bool:
    """True for a plausible name: letters, no question mark, a few words at most."""
    return (
        0 < len(value) <= MAX_NAME
        and any(ch.isalpha() for ch in value)
        and "?" not in value
        and len(value.split()) <= MAX_NAME_WORDS
    )


def question_before_form(tracker: Tracker) -> str | None:
    """The question the visitor asked just before the contact form started, if any.

    "Can you help us with ISO 27001?" -> the offer -> "yes": the team gets that question,
    so the form need not ask for it again.
    """
    started = False
    for event in reversed(tracker.events):
        if event.get("event") == "active_loop" and event.get("name") == "contact_form":
            started = True
        elif started and event.get("event") == "user":
            text = clean_text(event.get("text"))
            intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
            if text.startswith("/") or intent == "affirm":
                continue
            if intent not in QUESTION_INTENTS:
                return None
            return text if MIN_QUESTION <= len(text) <= MAX_QUESTION else None
    return None


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
        known = tracker.get_slot("contact_question")
        earlier = None if known else question_before_form(tracker)
        question = {"contact_question": earlier} if earlier else {}
        if looks_like_a_name(name):
            return {"contact_name": name, **question}
        if not known and not earlier and "?" in name and len(name) >= MIN_QUESTION:
            dispatcher.utter_message(response="utter_question_before_name")
            return {"contact_name": None, "contact_question": name}
        dispatcher.utter_message(response="utter_invalid_name")
        return {"contact_name": None, **question}

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
