"""Low-confidence messages: suggest what the visitor may have meant, then offer a person."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction
from rasa_sdk.executor import CollectingDispatcher

from actions.questions import FAQ_QUESTIONS, INTENT_SUGGESTIONS

MAX_SUGGESTIONS = 3
MIN_CONFIDENCE = 0.05
NONE_OF_THESE = {"title": "None of these", "payload": "/deny"}
_SILENT_ACTIONS = {"action_listen", "action_extract_slots", "action_unlikely_intent"}


def meanings(parse_data: dict[str, Any]) -> list[dict[str, Any]]:
    """The intent ranking of a parse without `nlu_fallback`, likeliest first."""
    return [item for item in parse_data.get("intent_ranking", []) if item["name"] != "nlu_fallback"]


def declines(parse_data: dict[str, Any]) -> bool:
    """True when the bot declines a message it is unsure of (off-topic likeliest, or none).

    The evaluation (certbot/tools/evaluate.py) scores low-confidence messages by this rule.
    """
    ranking = meanings(parse_data)
    return not ranking or ranking[0]["name"] == "out_of_scope"


def suggestions(parse_data: dict[str, Any]) -> list[dict[str, str]] | None:
    """Buttons for the most likely meanings of a message, best first.

    Returns None when the bot declines instead (`declines`).
    """
    if declines(parse_data):
        return None
    ranking = meanings(parse_data)
    # The sentence encoder's likeliest answers first when it disagreed with the pipeline
    # (certbot/nlu/second_opinion.py), then the pipeline's own ranking.
    buttons = faq_buttons(parse_data.get("second_opinion", {}).get("likeliest", []), [])
    for item in ranking:
        if item["confidence"] < MIN_CONFIDENCE:
            break
        if item["name"] == "faq":
            selector = parse_data.get("response_selector", {}).get("faq", {})
            ranked = selector.get("ranking", [])
            likely = [a["intent_response_key"] for a in ranked if a["confidence"] >= MIN_CONFIDENCE]
            buttons = faq_buttons(likely, buttons)
        elif item["name"] in INTENT_SUGGESTIONS:
            title, payload = INTENT_SUGGESTIONS[item["name"]]
            buttons.append({"title": title, "payload": payload})
    return buttons[:MAX_SUGGESTIONS]


def faq_buttons(keys: list[str], buttons: list[dict[str, str]]) -> list[dict[str, str]]:
    """`buttons` followed by one per FAQ answer key not among them."""
    buttons = list(buttons)
    for key in keys:
        question = FAQ_QUESTIONS.get(key)
        if question:
            button = {"title": question, "payload": question}
            if button not in buttons:
                buttons.append(button)
    return buttons


def previous_bot_action(tracker: Tracker) -> str | None:
    """Name of the last action the bot ran before the latest visitor message."""
    seen_user = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            if seen_user:
                continue
            seen_user = True
        elif (
            seen_user
            and event.get("event") == "action"
            and event.get("name") not in _SILENT_ACTIONS
        ):
            return event.get("name")
    return None


class ActionDidYouMean(Action):
    """Two-stage fallback: first "did you mean ...?", then the offer of a person."""

    def name(self) -> str:
        return "action_did_you_mean"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        if previous_bot_action(tracker) == self.name():
            return [FollowupAction("utter_offer_contact")]
        # Said here rather than as a followup action: after a followup response no rule
        # applies, and the policies' low confidence added "Sorry, I didn't get that".
        buttons = suggestions(tracker.latest_message)
        if buttons is None:
            dispatcher.utter_message(response="utter_out_of_scope")
        elif not buttons:
            dispatcher.utter_message(response="utter_default")
        else:
            dispatcher.utter_message(
                response="utter_did_you_mean", buttons=[*buttons, NONE_OF_THESE]
            )
        return []
