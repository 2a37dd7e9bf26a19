"""Build the project's own small English spaCy pipeline.

No pretrained spaCy model can be downloaded at set-up or run time, so the pipeline is
assembled from `spacy` and `spacy-lookups-data`: the English tokenizer, a lookup
lemmatizer and an entity ruler that labels standard names ("ISO 9001",
"ISO/IEC 17025", "iso14001") as `standard`. Rasa's `SpacyNLP` loads it from disk.

Usage: python -m certbot.tools.spacy_pipeline OUTPUT_DIR
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import spacy
from spacy.language import Language
from spacy.pipeline import EntityRuler

ENTITY_LABEL = "standard"

# Standard numbers visitors often type without the "ISO" prefix ("we need 9001").
KNOWN_NUMBERS = [
    "9000", "9001", "9004", "14001", "45001", "27001", "27002", "22000", "13485",
    "50001", "20000", "22301", "37001", "17020", "17021", "17024", "17025", "17065",
]  # fmt: skip

_NUMBER = r"^\d{3,5}(-\d{1,2})*(:\d{4})?$"
_GLUED = r"^(iso|iec)(/iec)?-?\d{3,5}(-\d{1,2})*(:\d{4})?$"


def standard_patterns() -> list[dict[str, Any]]:
    """Entity-ruler token patterns for names of ISO and ISO/IEC standards."""
    prefix = {"LOWER": {"IN": ["iso", "iec"]}}
    return [
        # "ISO 9001", "ISO 9001:2015", "ISO/IEC 17025", "iso / iec 27001"
        {
            "label": ENTITY_LABEL,
            "pattern": [
                prefix,
                {"ORTH": "/", "OP": "?"},
                {"LOWER": {"IN": ["iec", "iso"]}, "OP": "?"},
                {"TEXT": {"REGEX": _NUMBER}},
            ],
        },
        # "iso9001", "ISO-14001", "iso/iec17025" typed as one token
        {"label": ENTITY_LABEL, "pattern": [{"LOWER": {"REGEX": _GLUED}}]},
        # "9001", "14001:2015" on their own
        {
            "label": ENTITY_LABEL,
            "pattern": [{"TEXT": {"REGEX": rf"^({'|'.join(KNOWN_NUMBERS)})(:\d{{4}})?$"}}],
        },
    ]


def build() -> Language:
    """Return the blank English pipeline with lookup lemmatizer and standards ruler."""
    nlp = spacy.blank("en")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    ruler = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER"})
    assert isinstance(ruler, EntityRuler)  # add_pipe is typed to return any pipe
    nlp.initialize()
    ruler.add_patterns(standard_patterns())
    nlp.meta["name"] = "certbot"
    nlp.meta["version"] = "1.0.0"
    nlp.meta["description"] = "Tokenizer, lookup lemmatizer and ISO standard entity ruler"
    return nlp


def main(argv: list[str]) -> int:
    """Build the pipeline into the folder given on the command line."""
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    output = Path(argv[0])
    output.parent.mkdir(parents=True, exist_ok=True)
    build().to_disk(output)
    print(f"spaCy pipeline written to {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
