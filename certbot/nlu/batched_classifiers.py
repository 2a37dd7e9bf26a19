"""DIET and the ResponseSelector, predicting all the messages of one graph run at once.

Rasa's `process` runs the model once per message, even when the graph is given many
(`rasa test`, the evaluation's `parse_all`): for a batch of 64 messages that is nearly all
of a parse's time. These classes run the model once for the whole batch, then let Rasa
label each message from its row of the output, so a message gets the same intent,
ranking and answer as alone (tests/certbot/tools/test_evaluate.py compares). The bot
parses one message at a time: for it nothing changes. Training is Rasa's own; their
TensorFlow models load for prediction without a training step (certbot/nlu/prediction_load.py).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.diet_classifier import DIETClassifier
from rasa.nlu.selectors.response_selector import ResponseSelector
from rasa.shared.nlu.training_data.message import Message
from rasa.utils.tensorflow.models import RasaModel

from certbot.nlu.prediction_load import (
    PredictionLoadedDIET,
    PredictionLoadedDIET2BOW,
    PredictionLoadedDIET2DIET,
)

# Rasa checks for its own ResponseSelector class by identity when training and would warn
# that the FAQ examples are unused; BatchedResponseSelector trains on them.
warnings.filterwarnings(
    "ignore",
    message="You have defined training data with examples for training a response selector",
)


def output_row(output: Any, index: int, size: int) -> Any:
    """Message `index`'s part of a model output for `size` messages, as for one message."""
    if isinstance(output, dict):
        return {key: output_row(value, index, size) for key, value in output.items()}
    if isinstance(output, np.ndarray) and output.ndim and output.shape[0] == size:
        return output[index : index + 1]
    return output


class BatchPrediction:
    """`process` predicts every message in one run of the model (see the module)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Rasa's component, with no output predicted ahead yet."""
        super().__init__(*args, **kwargs)
        self._ahead: dict[int, Any] = {}

    def process(self, messages: list[Message]) -> list[Message]:
        """Predict all messages together, then label each as Rasa does."""
        predicted = self._predict_all(messages) if len(messages) > 1 else {}
        self._ahead.update(predicted)
        try:
            return super().process(messages)  # type: ignore[misc]
        finally:
            for key in predicted:
                self._ahead.pop(key, None)

    def _predict(self, message: Message) -> Any:
        """The output predicted ahead for this message, else Rasa's prediction alone."""
        if id(message) in self._ahead:
            return self._ahead.pop(id(message))
        return super()._predict(message)  # type: ignore[misc]

    def _predict_all(self, messages: list[Message]) -> dict[int, Any]:
        """Each message's output by id(); none when a message cannot be batched."""
        if self.model is None:  # type: ignore[attr-defined]
            return {}
        data = self._create_model_data(messages, training=False)  # type: ignore[attr-defined]
        if data.number_of_examples() != len(messages):
            return {}
        output = self.model.run_inference(data, batch_size=len(messages))  # type: ignore[attr-defined]
        return {
            id(message): output_row(output, index, len(messages))
            for index, message in enumerate(messages)
        }


@DefaultV1Recipe.register(
    [
        DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER,
        DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR,
    ],
    is_trainable=True,
)
class BatchedDIETClassifier(BatchPrediction, DIETClassifier):
    """Rasa's DIETClassifier, predicting a graph run's messages at once."""

    @staticmethod
    def model_class() -> type[RasaModel]:
        """Rasa's DIET, loaded for prediction without a training step."""
        return PredictionLoadedDIET


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class BatchedResponseSelector(BatchPrediction, ResponseSelector):
    """Rasa's ResponseSelector, predicting a graph run's messages at once."""

    @staticmethod
    def model_class(use_text_as_label: bool) -> type[RasaModel]:
        """Rasa's model of the selector, loaded for prediction without a training step."""
        return PredictionLoadedDIET2DIET if use_text_as_label else PredictionLoadedDIET2BOW
