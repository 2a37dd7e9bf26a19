"""What the project's NLU components share."""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.nlu.training_data.message import Message


def predict_intent(
    message: Message, confidence: float, name: str = DEFAULT_NLU_FALLBACK_INTENT_NAME
) -> None:
    """Make `name` (by default `nlu_fallback`) the message's intent, ahead of its ranking."""
    predicted = {"name": name, "confidence": confidence}
    message.set("intent", predicted, add_to_output=True)
    ranking = [predicted, *(message.get("intent_ranking") or [])]
    message.set("intent_ranking", ranking, add_to_output=True)


class ConfiguredComponent(GraphComponent):
    """A graph component built from its configuration alone: no training, no storage."""

    def __init__(self, config: dict[str, Any]) -> None:
        """Keep the configuration (defaults merged in by Rasa)."""
        self.config = config

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> ConfiguredComponent:
        """Create the component from its configuration."""
        return cls(config)
