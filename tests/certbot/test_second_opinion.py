import pytest
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from certbot.second_opinion import SecondOpinion

EXAMPLES = {
    "faq/mandatory": ["is iso certification mandatory", "do we have to be certified by law",
                      "is certification compulsory", "is iso 9001 required by law"],
    "faq/iso_logo": ["can we use the iso logo", "may i put the ISO logo on my website",
                     "is it allowed to print the iso logo on products"],
    "ask_quote": ["how much does certification cost", "what is the price of an audit",
                  "can you give us a quote"],
    "greet": ["hello", "hi there", "good morning"],
}  # fmt: skip


def training_data() -> TrainingData:
    examples = []
    for label, texts in EXAMPLES.items():
        intent, _, key = label.partition("/")
        for text in texts:
            data = {"text": text, "intent": intent}
            if key:
                data["intent_response_key"] = label
            examples.append(Message(data=data))
    return TrainingData(examples)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    storage = LocalModelStorage(tmp_path_factory.mktemp("storage"))
    resource = Resource("second_opinion")
    config = {**SecondOpinion.get_default_config(), "agree_within": 1}
    context = ExecutionContext(graph_schema=None, model_id="1")
    SecondOpinion.create(config, storage, resource, context).train(training_data())
    return SecondOpinion.load(config, storage, resource, context)


def answered(text: str, answer: str) -> Message:
    return Message(
        data={
            "text": text,
            "intent": {"name": "faq", "confidence": 0.97},
            "intent_ranking": [{"name": "faq", "confidence": 0.97}],
            "response_selector": {"faq": {"response": {"intent_response_key": answer}}},
        }
    )


def test_a_stored_regression_is_loaded_back(trained):
    assert trained.likeliest(["are companies legally obliged to get iso"]) == [["faq/mandatory"]]


def test_an_answer_the_encoder_agrees_with_is_kept(trained):
    [result] = trained.process([answered("must every company be iso certified", "faq/mandatory")])
    assert result.get("intent")["name"] == "faq"


def test_an_answer_the_encoder_disagrees_with_becomes_did_you_mean(trained):
    text = "is printing the iso mark on our box ok"
    [result] = trained.process([answered(text, "faq/mandatory")])
    assert result.get("intent") == {"name": "nlu_fallback", "confidence": 0.97}
    assert [i["name"] for i in result.get("intent_ranking")] == ["nlu_fallback", "faq"]
    assert result.get("second_opinion") == {
        "answer": "faq/mandatory",
        "likeliest": ["faq/iso_logo"],
    }


def test_messages_without_an_faq_answer_are_untouched(trained):
    greeting = Message(data={"text": "hello", "intent": {"name": "greet", "confidence": 0.2}})
    [result] = trained.process([greeting])
    assert result.get("intent") == {"name": "greet", "confidence": 0.2}
