from pathlib import Path

import pytest
import spacy

from certbot.tools.spacy_pipeline import ENTITY_LABEL, build

BUILT = Path(__file__).resolve().parents[3] / "var" / "spacy" / "en_certbot"


@pytest.fixture(scope="module")
def nlp():
    return spacy.load(BUILT) if BUILT.exists() else build()


@pytest.mark.parametrize(
    ("text", "standards"),
    [
        ("who issues iso 9001 certificates?", ["iso 9001"]),
        ("we need iso9001 and iso-14001:2015", ["iso9001", "iso-14001:2015"]),
        ("is iso/iec 17025 accreditation", ["iso/iec 17025"]),
        ("my boss wants 45001", ["45001"]),
        ("does iso certify companies", []),
    ],
)
def test_standard_names_are_entities(nlp, text, standards):
    doc = nlp(text)
    assert [e.text for e in doc.ents if e.label_ == ENTITY_LABEL] == standards


def test_lookup_lemmas(nlp):
    assert [t.lemma_ for t in nlp("bodies issued certificates")] == ["body", "issue", "certificate"]


def test_pipeline_is_tokenizer_lemmatizer_and_ruler_only(nlp):
    assert nlp.pipe_names == ["lemmatizer", "entity_ruler"]
