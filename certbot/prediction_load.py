"""DIET and the ResponseSelector's TensorFlow models, loaded for prediction without training.

Rasa's `RasaModel.load` compiles a model and fits it on one example, so that the optimizer's
variables exist before the weights are read: it traces the whole training step, about 6 of
the 11 s it takes to load the shipped model (the bot's start, every model it pulls, every
evaluation of a candidate). A model loaded to predict needs no optimizer: here the weights
are restored as one prediction creates the variables (TensorFlow restores on creation), and
TensorFlow then checks that every variable the model has was found in the checkpoint, so a
weight left at its random start fails the load instead of skewing answers. Finetuning still
goes through Rasa's load, which it needs for the optimizer's state. The same predictions as
Rasa's load, to the last digit: tests/certbot/test_prediction_load.py.
"""

from __future__ import annotations

from typing import Any

from rasa.nlu.classifiers.diet_classifier import DIET
from rasa.nlu.selectors.response_selector import DIET2BOW, DIET2DIET
from rasa.utils.tensorflow.model_data import RasaModelData
from rasa.utils.tensorflow.models import RasaModel


class PredictionLoad:
    """A RasaModel whose `load` skips the training step when it is loaded to predict."""

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
        """The model with its trained weights (see the module); Rasa's load to finetune."""
        if finetune_mode or predict_data_example is None:
            return super().load(  # type: ignore[misc]
                model_file_name, model_data_example, predict_data_example, finetune_mode,
                *args, **kwargs,
            )  # fmt: skip
        model = cls(*args, **kwargs)
        restored = model.load_weights(model_file_name)
        model.run_inference(predict_data_example)
        restored.assert_existing_objects_matched()
        # The checkpoint also holds the optimizer's state, which prediction never reads.
        restored.expect_partial()
        return model


class PredictionLoadedDIET(PredictionLoad, DIET):
    """DIET (the intent classifier's model), loaded for prediction without training."""


class PredictionLoadedDIET2BOW(PredictionLoad, DIET2BOW):
    """The ResponseSelector's model (answers as labels), loaded without training."""


class PredictionLoadedDIET2DIET(PredictionLoad, DIET2DIET):
    """The ResponseSelector's model (answer texts as labels), loaded without training."""
