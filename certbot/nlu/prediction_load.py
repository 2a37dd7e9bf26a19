"""DIET and the ResponseSelector's TensorFlow models, loaded without tracing a training step.

Rasa's `RasaModel.load` compiles a model and fits it on one example, so that every variable,
the optimizer's included, exists before the weights are read: it traces the whole training
step, about 6 of the 11 s it takes to load the shipped model (the bot's start, every model
it pulls, every evaluation of a candidate) and twice per finetuning, which traces it again
to train. Here one prediction creates the model's variables while the checkpoint is read
(TensorFlow restores a variable when it is created); to finetune, the optimizer's variables
are then created for the model's trainable variables, in the order its training step gives
them, so the checkpoint's optimizer state is restored as well. TensorFlow then checks that
every variable was found in the checkpoint: a weight left at its random start fails the load
instead of skewing answers. The same weights, optimizer state and predictions as Rasa's
load, to the last digit: tests/certbot/nlu/test_prediction_load.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import tensorflow as tf
from rasa.nlu.classifiers.diet_classifier import DIET
from rasa.nlu.selectors.response_selector import DIET2BOW, DIET2DIET
from rasa.utils.tensorflow.constants import LEARNING_RATE, RUN_EAGERLY
from rasa.utils.tensorflow.model_data import RasaModelData
from rasa.utils.tensorflow.models import RasaModel

DEFAULT_LEARNING_RATE = 0.001  # Rasa's when the configuration has none

# A mixin, always combined with a RasaModel (below): mypy checks it as one, so `cls(...)`
# and `super().load` are a RasaModel's. At run time it derives from object only.
if TYPE_CHECKING:
    from rasa.utils.tensorflow.models import RasaModel as _Mixin
else:
    _Mixin = object


class PredictionLoad(_Mixin):
    """A RasaModel whose `load` builds the model by predicting once (see the module)."""

    @classmethod
    def load(
        cls,
        model_file_name: str,
        model_data_example: RasaModelData,
        predict_data_example: RasaModelData | None = None,
        finetune_mode: bool = False,
        *args: Any,
        **kwargs: Any,
    ) -> RasaModel:
        """The model with its trained weights (and optimizer state, to finetune)."""
        if predict_data_example is None:
            return super().load(
                model_file_name, model_data_example, predict_data_example, finetune_mode,
                *args, **kwargs,
            )  # fmt: skip
        model = cls(*args, **kwargs)
        restored = model.load_weights(model_file_name)
        model.run_inference(predict_data_example)
        if finetune_mode:
            # The label embeddings it computed are stale once training changes the weights.
            model.prepared_for_prediction = False
            config = kwargs.get("config", {})
            learning_rate = config.get(LEARNING_RATE, DEFAULT_LEARNING_RATE)
            model.compile(
                optimizer=tf.keras.optimizers.Adam(learning_rate),
                run_eagerly=config.get(RUN_EAGERLY),
            )
            model.optimizer.build(model.trainable_variables)
        restored.assert_existing_objects_matched()
        if not finetune_mode:
            # The checkpoint also holds the optimizer's state, which prediction never reads.
            restored.expect_partial()
        return model


class PredictionLoadedDIET(PredictionLoad, DIET):
    """DIET (the intent classifier's model), loaded without tracing a training step."""


class PredictionLoadedDIET2BOW(PredictionLoad, DIET2BOW):
    """The ResponseSelector's model (answers as labels), loaded without a training step."""


class PredictionLoadedDIET2DIET(PredictionLoad, DIET2DIET):
    """The ResponseSelector's model (answer texts as labels), loaded without a training step."""
