"""A second opinion from a pretrained sentence encoder, on the messages where guessing costs most.

DIET and the ResponseSelector know only the words of the training examples, so a real
visitor's phrasing often gets the nearest answer with full confidence, and a wrong one
(docs/nlu.md). This component trains a logistic regression over the sentence vectors of
the same examples (certbot/nlu/sentence_encoder.py), labelled with their full intent
("faq/mandatory", "ask_quote", ...), and judges four kinds of message:

- an FAQ answer not among the regression's `agree_within` likeliest labels becomes
  `nlu_fallback` ("did you mean", the encoder's likeliest answers first);
- a message about to be declined, or a question of `min_words` or more about to get "did
  you mean" with no answer the regression finds likely (below `answer_below`; a few words
  such as "question about certificates" keep their suggestions), becomes `needs_person`
  (the offer of a person, also an intent with examples of its own) when the regression
  puts at least `domain_above` of its weight on certification (the FAQ answers and
  `domain_intents`): a question without an answer;
- an FAQ answer kept although the regression's likeliest label is another one carries the
  opinion too (the reply is unchanged; the staff console lists it for review);
- "did you mean" or a hand-over to a person becomes `out_of_scope` (the polite decline)
  when the regression puts less than `domain_below` on certification; a request for a
  person (`never_declined`) is always honoured, since "is there a number I can ring?"
  sounds like the phone calls of the off-topic examples.

Greetings and other small talk cost no encoder call. Place it last among the classifiers
in config.yml.
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
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from certbot.nlu.components import predict_intent
from certbot.nlu.sentence_encoder import shared_encoder

logger = logging.getLogger(__name__)

WEIGHTS_FILE = "regression.npz"
# Parse-data key of a changed prediction: what the pipeline said, the encoder's likeliest
# labels (actions/fallback.py suggests them first) and its weight on certification.
OPINION_KEY = "second_opinion"
NEEDS_PERSON = "needs_person"
OUT_OF_SCOPE = "out_of_scope"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class SecondOpinion(GraphComponent, IntentClassifier):
    """Vetoes FAQ answers, offers a person or declines where the sentence encoder says so."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Labels and thresholds of the three judgements (module docstring), and C."""
        return {
            "retrieval_intent": "faq",
            "domain_intents": ["ask_quote", "request_human"],
            "never_declined": ["request_human"],
            "agree_within": 2,
            "answer_below": 0.4,
            "min_words": 4,
            "domain_above": 0.7,
            "domain_below": 0.2,
            "regularisation": 10.0,
        }

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
        """Fit the regression on the encoded training examples and store it.

        Finetuning (Rasa loads the live model's weights first) starts from those weights
        when the labels are the same: the same optimum, reached in a fraction of the time.
        """
        from sklearn.linear_model import LogisticRegression

        examples = [m for m in training_data.intent_examples if m.get("text")]
        vectors = shared_encoder().encode([m.get("text") for m in examples])
        labels = [m.get_full_intent() for m in examples]
        regression = LogisticRegression(C=self.config["regularisation"], max_iter=3000)
        previous = self._weights
        if previous is not None and sorted(set(labels)) == list(previous["labels"]):
            regression.warm_start = True
            regression.coef_ = previous["coef"].astype(np.float64)
            regression.intercept_ = previous["intercept"].astype(np.float64)
        regression.fit(vectors, labels)
        self._weights = {
            "labels": np.array(regression.classes_, dtype=str),
            "coef": regression.coef_.astype(np.float32),
            "intercept": regression.intercept_.astype(np.float32),
        }
        with self._model_storage.write_to(self._resource) as directory:
            np.savez(directory / WEIGHTS_FILE, **self._weights)
        return self._resource

    def probabilities(self, texts: list[str]) -> np.ndarray:
        """The regression's probability of every label (columns as `self._weights["labels"]`)."""
        assert self._weights is not None, "SecondOpinion used before training"
        scores = shared_encoder().encode(texts) @ self._weights["coef"].T
        scores += self._weights["intercept"]
        scores = np.exp(scores - scores.max(axis=1, keepdims=True))
        return scores / scores.sum(axis=1, keepdims=True)

    def process(self, messages: list[Message]) -> list[Message]:
        """Judge the FAQ answers, the declines, the "did you mean"s and the hand-overs."""
        judged = [m for m in messages if m.get("text") and self._judged(m)]
        if not judged:
            return messages
        rows = self.probabilities([m.get("text") for m in judged])
        for message, row in zip(judged, rows, strict=True):
            self._judge(message, row)
        return messages

    def _judged(self, message: Message) -> bool:
        """True for the intents this component may change."""
        name = (message.get("intent") or {}).get("name")
        changeable = {self.config["retrieval_intent"], DEFAULT_NLU_FALLBACK_INTENT_NAME}
        return name in changeable | {OUT_OF_SCOPE, *self.config["domain_intents"]}

    def _judge(self, message: Message, row: np.ndarray) -> None:
        """Change the message's intent where the regression's probabilities `row` say so."""
        assert self._weights is not None  # `row` comes from `probabilities`, which needs them
        labels = [str(label) for label in self._weights["labels"]]
        probability = dict(zip(labels, row.tolist(), strict=True))
        prefix = self.config["retrieval_intent"] + "/"
        answers = {label: p for label, p in probability.items() if label.startswith(prefix)}
        handovers = sum(probability.get(label, 0.0) for label in self.config["domain_intents"])
        domain = sum(answers.values()) + handovers
        likeliest = [labels[i] for i in np.argsort(-row)[: self.config["agree_within"]]]
        intent = message.get("intent") or {}
        confidence = float(intent.get("confidence", 0.0))
        said = intent.get("name")
        answer = self._answer(message)
        if answer and answer not in likeliest:
            logger.debug("second opinion %s disagrees with %s", likeliest, answer)
            predict_intent(message, confidence)
            said = DEFAULT_NLU_FALLBACK_INTENT_NAME
        was = answer or self._declined(message) or said
        declinable = {DEFAULT_NLU_FALLBACK_INTENT_NAME, *self.config["domain_intents"]}
        declinable -= set(self.config["never_declined"])
        if said in declinable and domain < self.config["domain_below"]:
            predict_intent(message, 1.0 - domain, OUT_OF_SCOPE)
        elif domain >= self.config["domain_above"] and (
            was == OUT_OF_SCOPE
            or (
                said == DEFAULT_NLU_FALLBACK_INTENT_NAME
                and max(answers.values(), default=0.0) < self.config["answer_below"]
                and len(message.get("text").split()) >= self.config["min_words"]
            )
        ):
            predict_intent(message, domain, NEEDS_PERSON)
        elif said == intent.get("name") and (not answer or likeliest[0] == answer):
            return
        # Changed, or an answer kept (among the likeliest) that the encoder would not have
        # given first: noted, the console's inbox lists the latter for review.
        opinion = {"answer": was, "likeliest": likeliest, "domain": round(domain, 3)}
        message.set(OPINION_KEY, opinion, add_to_output=True)

    def _declined(self, message: Message) -> str | None:
        """`out_of_scope` when the bot would decline the message (see actions/fallback.py)."""
        ranking = [
            item["name"]
            for item in message.get("intent_ranking") or []
            if item["name"] != DEFAULT_NLU_FALLBACK_INTENT_NAME
        ]
        return OUT_OF_SCOPE if ranking[:1] == [OUT_OF_SCOPE] else None

    def _answer(self, message: Message) -> str | None:
        """The full retrieval intent of the FAQ answer the message would get, if any."""
        intent = message.get("intent") or {}
        if intent.get("name") != self.config["retrieval_intent"]:
            return None
        selector = (message.get("response_selector") or {}).get(self.config["retrieval_intent"])
        return ((selector or {}).get("response") or {}).get("intent_response_key")
