from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from certbot.nlu.count_vectors import MinDfCountVectorsFeaturizer, frequent_terms

FIRST = ["who issues iso certificates", "who issues the certificates", "is iso mandatory"]
LATER = [*FIRST, "which bodies issue certificates", "which bodies audit", "a lone word"]


def tokenized(texts: list[str]) -> TrainingData:
    data = TrainingData([Message(data={"text": t, "intent": "faq"}) for t in texts])
    tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
    tokenizer.process_training_data(data)
    return data


def vocabulary(featurizer: MinDfCountVectorsFeaturizer) -> set[str]:
    return set(featurizer.vectorizers["text"].vocabulary_)


def test_finetuning_adds_only_terms_found_in_min_df_texts(tmp_path):
    config = {**MinDfCountVectorsFeaturizer.get_default_config(), "min_df": 2}
    storage, resource = LocalModelStorage(tmp_path), Resource("words")
    context = ExecutionContext(graph_schema=None, model_id="1")
    MinDfCountVectorsFeaturizer.create(config, storage, resource, context).train(tokenized(FIRST))
    finetuning = ExecutionContext(graph_schema=None, model_id="2", is_finetuning=True)
    featurizer = MinDfCountVectorsFeaturizer.load(config, storage, resource, finetuning)
    before = vocabulary(featurizer)
    assert before == {"who", "issues", "iso", "certificates"}

    featurizer.train(tokenized(LATER))
    assert vocabulary(featurizer) - before == {"which", "bodies"}
    indices = featurizer.vectorizers["text"].vocabulary_
    assert sorted(indices[t] for t in before) == list(range(len(before)))  # old columns kept


def test_min_df_as_a_share_of_the_texts():
    analyzer = str.split
    texts = ["a b", "a c", "a b", "d"]
    assert frequent_terms(analyzer, texts, 0.5) == ["a", "b"]
    assert frequent_terms(analyzer, texts, 1) == ["a", "b", "c", "d"]
