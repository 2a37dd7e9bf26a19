"""Rasa's SpacyTokenizer, whose tokens are fingerprinted in one hash each.

Rasa's training graph fingerprints every component's output to cache it, the training data
with every token of every example included, about fifteen times per training. Rasa's
`Token.fingerprint` hashes the token's text, offsets, lemma and data one by one and then
their hashes (five MD5s and four JSON documents per token): with ~28,000 tokens that was
about 5 s of each training, retraining included. `FingerprintedToken` hashes one JSON
document of the same fields: a different fingerprint when any field differs, as before,
for a third of the time. Tokens themselves are Rasa's, field for field.
"""

from __future__ import annotations

import json

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.spacy_tokenizer import SpacyTokenizer
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.utils.io import get_text_hash


class FingerprintedToken(Token):
    """A token whose fingerprint is one hash of all its fields."""

    def fingerprint(self) -> str:
        """The MD5 of the token's text, offsets, lemma and data as one JSON document."""
        fields = [self.text, self.start, self.end, self.lemma, self.data]
        return get_text_hash(json.dumps(fields, sort_keys=True, default=repr))


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class FingerprintedSpacyTokenizer(SpacyTokenizer):
    """Rasa's SpacyTokenizer, making FingerprintedTokens."""

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        """Rasa's tokens of the attribute, as FingerprintedTokens."""
        return [
            FingerprintedToken(token.text, token.start, token.end, token.data, token.lemma)
            for token in super().tokenize(message, attribute)
        ]
