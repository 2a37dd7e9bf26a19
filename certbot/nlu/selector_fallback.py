"""NLU fallback for an uncertain FAQ answer.

Rasa's `FallbackClassifier` only looks at intent confidence: "question about certificates"
is surely an FAQ (intent `faq` at 0.99) but the `ResponseSelector` cannot tell which one
(0.35 / 0.17 / 0.15) and would answer the likeliest at random. This component turns such
messages into `nlu_fallback`, so the visitor gets "did you mean ...?" with the candidates.
Place it after the ResponseSelector in config.yml.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.training_data.message import Message

from certbot.nlu.components import ConfiguredComponent, predict_intent


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class ResponseSelectorFallback(ConfiguredComponent, IntentClassifier):
    """Predicts `nlu_fallback` when the selected FAQ answer's confidence is low."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Retrieval intent to watch and the minimum confidence of its answer."""
        return {"retrieval_intent": "faq", "threshold": 0.4}

    def __init__(self, config: dict[str, Any]) -> None:
        """Keep the configuration."""
        super().__init__(config)
        self.retrieval_intent = config["retrieval_intent"]
        self.threshold = config["threshold"]

    def process(self, messages: list[Message]) -> list[Message]:
        """Replace an uncertain FAQ prediction by `nlu_fallback`, keeping the rankings."""
        for message in messages:
            intent = message.get("intent") or {}
            if intent.get("name") != self.retrieval_intent:
                continue
            selector = (message.get("response_selector") or {}).get(self.retrieval_intent, {})
            confidence = selector.get("response", {}).get("confidence", 1.0)
            if confidence < self.threshold:
                predict_intent(message, confidence)
        return messages
