"""A second opinion on every FAQ answer, from a pretrained sentence encoder.

DIET and the ResponseSelector know only the words of the training examples, so a real
visitor's phrasing often gets the nearest answer with full confidence, and a wrong one
(docs/nlu.md). This component trains a logistic regression over the sentence vectors of
the same examples (certbot/sentence_encoder.py), labelled with their full intent
("faq/mandatory", "ask_quote", ...). When the FAQ answer chosen by the pipeline is not
among the regression's `agree_within` likeliest labels, the two disagree and the message
becomes `nlu_fallback`: the visitor gets "did you mean" instead of a confident guess, the encoder's
likeliest answers first.
Only FAQ answers are checked, so other messages cost no encoder call. Place it last among
the classifiers in config.yml.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from certbot.components import predict_fallback
from certbot.sentence_encoder import shared_encoder

logger = logging.getLogger(__name__)

WEIGHTS_FILE = "regression.npz"
# Parse-data key of a disagreement: the pipeline's answer and the encoder's likeliest labels
# (actions/fallback.py suggests the latter first).
OPINION_KEY = "second_opinion"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class SecondOpinion(GraphComponent, IntentClassifier):
    """Turns an FAQ answer the sentence encoder disagrees with into `nlu_fallback`."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Retrieval intent, how many of the encoder's labels may hold the answer, and C."""
        return {"retrieval_intent": "faq", "agree_within": 2, "regularisation": 10.0}

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        weights: dict[str, np.ndarray] | None = None,
    ) -> None:
        """Keep the configuration, where to store the regression and its weights if any."""
        self.config = config
        self._model_storage = model_storage
        self._resource = resource
        self._weights = weights

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SecondOpinion:
        """An untrained component."""
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> SecondOpinion:
        """The component with its trained regression."""
        with (
            model_storage.read_from(resource) as directory,
            np.load(directory / WEIGHTS_FILE) as stored,
        ):
            weights = {name: stored[name] for name in stored.files}
        shared_encoder()
        return cls(config, model_storage, resource, weights)

    def train(self, training_data: TrainingData) -> Resource:
        """Fit the regression on the encoded training examples and store it."""
        from sklearn.linear_model import LogisticRegression

        examples = [m for m in training_data.intent_examples if m.get("text")]
        vectors = shared_encoder().encode([m.get("text") for m in examples])
        labels = [m.get_full_intent() for m in examples]
        regression = LogisticRegression(C=self.config["regularisation"], max_iter=3000)
        regression.fit(vectors, labels)
        self._weights = {
            "labels": np.array(regression.classes_, dtype=str),
            "coef": regression.coef_.astype(np.float32),
            "intercept": regression.intercept_.astype(np.float32),
        }
        with self._model_storage.write_to(self._resource) as directory:
            np.savez(directory / WEIGHTS_FILE, **self._weights)
        return self._resource

    def likeliest(self, texts: list[str]) -> list[list[str]]:
        """The regression's `agree_within` likeliest labels for each text."""
        assert self._weights is not None, "SecondOpinion used before training"
        scores = shared_encoder().encode(texts) @ self._weights["coef"].T
        scores += self._weights["intercept"]
        order = np.argsort(-scores, axis=1)[:, : self.config["agree_within"]]
        return [[str(self._weights["labels"][i]) for i in row] for row in order]

    def process(self, messages: list[Message]) -> list[Message]:
        """Replace an FAQ answer outside the encoder's likeliest labels by `nlu_fallback`."""
        answered = [(m, answer) for m in messages if (answer := self._answer(m))]
        if not answered:
            return messages
        opinions = self.likeliest([m.get("text") for m, _ in answered])
        for (message, answer), likeliest in zip(answered, opinions, strict=True):
            if answer in likeliest:
                continue
            logger.debug("second opinion %s disagrees with %s", likeliest, answer)
            confidence = (message.get("intent") or {}).get("confidence", 0.0)
            predict_fallback(message, confidence)
            message.set(OPINION_KEY, {"answer": answer, "likeliest": likeliest}, add_to_output=True)
        return messages

    def _answer(self, message: Message) -> str | None:
        """The full retrieval intent of the FAQ answer the message would get, if any."""
        intent = message.get("intent") or {}
        if intent.get("name") != self.config["retrieval_intent"] or not message.get("text"):
            return None
        selector = (message.get("response_selector") or {}).get(self.config["retrieval_intent"])
        return ((selector or {}).get("response") or {}).get("intent_response_key")
