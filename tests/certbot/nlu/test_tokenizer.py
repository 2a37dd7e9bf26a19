import pytest
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.tokenizers.spacy_tokenizer import SpacyTokenizer
from rasa.nlu.utils.spacy_utils import SpacyNLP
from rasa.shared.nlu.training_data.message import Message

from certbot.nlu.tokenizer import FingerprintedSpacyTokenizer, FingerprintedToken

TEXTS = ["Who issues ISO 9001 certificates?", "iso/iec 17021-1 — what's that", "", "  ", "ça va"]


@pytest.fixture(scope="module")
def spacy_nlp(tmp_path_factory):
    config = {**SpacyNLP.get_default_config(), "model": "var/spacy/en_certbot"}
    storage = LocalModelStorage(tmp_path_factory.mktemp("storage"))
    context = ExecutionContext(graph_schema=None, model_id="1")
    return SpacyNLP.create(config, storage, Resource("spacy"), context)


def tokens_of(tokenizer_class, spacy_nlp, text):
    message = Message(data={"text": text})
    spacy_nlp.process([message], spacy_nlp.provide())
    tokenizer_class(tokenizer_class.get_default_config()).process([message])
    return message.get("text_tokens")


@pytest.mark.parametrize("text", TEXTS)
def test_the_tokens_are_rasas_field_for_field(spacy_nlp, text):
    ours = tokens_of(FingerprintedSpacyTokenizer, spacy_nlp, text)
    rasas = tokens_of(SpacyTokenizer, spacy_nlp, text)
    assert all(isinstance(token, FingerprintedToken) for token in ours)
    fields = [(t.text, t.start, t.end, t.lemma, t.data) for t in rasas]
    assert [(t.text, t.start, t.end, t.lemma, t.data) for t in ours] == fields


def test_a_fingerprint_changes_with_every_field_and_only_then():
    token = FingerprintedToken("Issues", 4, 10, {"pos": "VERB"}, "issue")
    same = FingerprintedToken("Issues", 4, 10, {"pos": "VERB"}, "issue")
    assert token.fingerprint() == same.fingerprint()
    others = [
        FingerprintedToken("issues", 4, 10, {"pos": "VERB"}, "issue"),
        FingerprintedToken("Issues", 5, 11, {"pos": "VERB"}, "issue"),
        FingerprintedToken("Issues", 4, 11, {"pos": "VERB"}, "issue"),
        FingerprintedToken("Issues", 4, 10, {"pos": "NOUN"}, "issue"),
        FingerprintedToken("Issues", 4, 10, {"pos": "VERB", "x": 1}, "issue"),
        FingerprintedToken("Issues", 4, 10, {"pos": "VERB"}, "issues"),
    ]
    prints = {other.fingerprint() for other in others}
    assert token.fingerprint() not in prints and len(prints) == len(others)
