"""Session start: greet the visitor and suggest questions."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, SessionStarted
from rasa_sdk.executor import CollectingDispatcher

SESSION_START_MESSAGE = "/session_start"


def said_since_session_start(tracker: Tracker) -> list[str] | None:
    """The visitor's messages since the latest session start; None if none has started."""
    said: list[str] = []
    for event in reversed(tracker.events):
        if event.get("event") == "session_started":
            return said
        if event.get("event") == "user":
            said.append(event.get("text"))
    return None


def session_is_fresh(tracker: Tracker) -> bool:
    """True if a session has started and the visitor has said nothing in it yet."""
    said = said_since_session_start(tracker)
    return said is not None and all(text == SESSION_START_MESSAGE for text in said)


def greeted_this_turn(tracker: Tracker) -> bool:
    """True if the session started (with its greeting) on the visitor's latest message."""
    said = said_since_session_start(tracker)
    return said is not None and len(said) <= 1


class ActionGreet(Action):
    """Answer a greeting, unless the session's greeting has just been said for it."""

    def name(self) -> str:
        return "action_greet"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        if not greeted_this_turn(tracker):
            dispatcher.utter_message(response="utter_greet")
        return []


class ActionSessionStart(Action):
    """Start a new session with the greeting and its suggested questions.

    A client may open a conversation with "/session_start" (the widget does): Rasa then
    starts the session itself and runs this action again for the message; the second
    run only returns to listening, so the visitor is greeted once.
    """

    def name(self) -> str:
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        if session_is_fresh(tracker):
            return [ActionExecuted("action_listen")]
        dispatcher.utter_message(response="utter_greet")
        return [SessionStarted(), ActionExecuted("action_listen")]
