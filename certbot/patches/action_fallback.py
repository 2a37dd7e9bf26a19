"""A polite reply when the action server cannot be reached, instead of silence.

Rasa logs a failed custom action and carries on without its events, so a visitor would get
no greeting, no answer or a stalled form. `install` makes Rasa build its remote actions from
`RemoteActionWithFallback`, which answers `utter_technical_problem` instead (once per
visitor message). Custom slot mappings still fail silently (the answer comes without the
slot), and a form whose validation cannot run keeps asking the same question rather than
accepting an unchecked answer.
"""

from __future__ import annotations

import logging
from typing import Any

import rasa.core.actions.action
import rasa.core.actions.forms
from rasa.core.actions.action import ActionExecutionRejection, RemoteAction, create_bot_utterance
from rasa.core.channels.channel import OutputChannel
from rasa.core.nlg import NaturalLanguageGenerator
from rasa.shared.core.constants import ACTION_LISTEN_NAME, REQUESTED_SLOT
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, SlotSet
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import RasaException

logger = logging.getLogger(__name__)

RESPONSE = "utter_technical_problem"


def slot_mapping_actions(domain: Domain) -> set[str]:
    """Custom actions that fill slots (`type: custom` mappings)."""
    return {
        mapping["action"]
        for slot in domain.slots
        for mapping in slot.mappings
        if mapping.get("action")
    }


def apologised_this_turn(tracker: DialogueStateTracker) -> bool:
    """True if the bot already said RESPONSE since it last listened."""
    for event in reversed(tracker.events):
        if isinstance(event, ActionExecuted) and event.action_name == ACTION_LISTEN_NAME:
            return False
        if isinstance(event, BotUttered) and event.metadata.get("utter_action") == RESPONSE:
            return True
    return False


class RemoteActionWithFallback(RemoteAction):
    """A custom action that apologises when the action server fails."""

    async def run(
        self,
        output_channel: OutputChannel,
        nlg: NaturalLanguageGenerator,
        tracker: DialogueStateTracker,
        domain: Domain,
    ) -> list[Event]:
        """Run the action on the action server; on failure, the apology."""
        try:
            return await super().run(output_channel, nlg, tracker, domain)
        except ActionExecutionRejection:
            raise
        except RasaException as error:
            if self.name() in slot_mapping_actions(domain):
                raise
            logger.warning(
                "custom action %s failed (%s): replying %s", self.name(), error, RESPONSE
            )
            events: list[Event] = []
            requested = tracker.get_slot(REQUESTED_SLOT)
            if requested and self.name() == f"validate_{tracker.active_loop_name}":
                events.append(SlotSet(requested, None))
            if not apologised_this_turn(tracker):
                message: dict[str, Any] | None = await nlg.generate(
                    RESPONSE, tracker, output_channel.name()
                )
                if message:
                    message["utter_action"] = RESPONSE
                    events.insert(0, create_bot_utterance(message))
            return events


def install() -> None:
    """Make Rasa build every remote action (forms' validations too) with the fallback."""
    rasa.core.actions.action.RemoteAction = RemoteActionWithFallback
    rasa.core.actions.forms.RemoteAction = RemoteActionWithFallback
