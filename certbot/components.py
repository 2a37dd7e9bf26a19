"""What the project's NLU components share."""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage


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
