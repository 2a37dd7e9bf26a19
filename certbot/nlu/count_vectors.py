"""Rasa's CountVectorsFeaturizer, finetuned the way it is trained: `min_df` still holds.

When Rasa finetunes a model, its CountVectorsFeaturizer appends every n-gram of the
training texts that its vocabulary lacks, ignoring `min_df`. With `min_df: 2` the first
finetune grew the word vocabulary from 4,182 to 12,901 items and the character one from
7,169 to 11,049, with DIET's sparse input layers: each DIET epoch took 1.5 times as long
(docs/retraining.md). This class appends only the n-grams found in at least `min_df`
training texts, as a training from scratch keeps.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import (
    CountVectorsFeaturizer,
)


def frequent_terms(
    analyzer: Callable[[str], list[str]], texts: list[str], min_df: int | float
) -> list[str]:
    """The terms of `texts` found in at least `min_df` of them (a share when a float)."""
    least = math.ceil(min_df * len(texts)) if isinstance(min_df, float) else min_df
    counts = Counter(term for text in texts for term in set(analyzer(text)))
    return sorted(term for term, count in counts.items() if count >= least)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class MinDfCountVectorsFeaturizer(CountVectorsFeaturizer):
    """CountVectorsFeaturizer whose finetuning adds only terms that pass `min_df`."""

    def _fit_loaded_vectorizer(self, attribute: str, attribute_texts: list[str]) -> None:
        """Append the frequent new terms to the loaded vocabulary (Rasa appends all)."""
        analyzer = self.vectorizers[attribute].build_analyzer()
        terms = frequent_terms(analyzer, attribute_texts, self.min_df)
        self._update_vectorizer_vocabulary(attribute, terms)
