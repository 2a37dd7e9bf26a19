import pytest
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from certbot.nlu.second_opinion import SecondOpinion

EXAMPLES = {
    "faq/mandatory": ["is iso certification mandatory", "do we have to be certified by law",
                      "is certification compulsory", "is iso 9001 required by law"],
    "faq/iso_logo": ["can we use the iso logo", "may i put the ISO logo on my website",
                     "is it allowed to print the iso logo on products"],
    "ask_quote": ["how much does certification cost", "what is the price of an audit",
                  "can you give us a quote"],
    "request_human": ["i want to talk to a person", "can someone from your team call me"],
    "greet": ["hello", "hi there", "good morning"],
    "out_of_scope": ["what's the weather tomorrow", "book a table for two tonight",
                     "play some jazz music", "how do i bake sourdough bread",
                     "set an alarm for 7 am", "who won the football match"],
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


def test_finetuning_starts_from_the_loaded_weights_and_reaches_the_same_regression(
    trained, tmp_path
):
    """Rasa finetunes by loading the live model's component, then training it."""
    data = training_data()
    data.training_examples.append(
        Message(data={"text": "is an iso certificate a legal duty", "intent": "faq",
                      "intent_response_key": "faq/mandatory"})
    )  # fmt: skip
    context = ExecutionContext(graph_schema=None, model_id="2", is_finetuning=True)
    storage = LocalModelStorage(tmp_path)
    cold = SecondOpinion.create(trained.config, storage, Resource("cold"), context)
    cold.train(data)
    finetuned = SecondOpinion.load(
        trained.config, trained._model_storage, trained._resource, context
    )
    finetuned._model_storage, finetuned._resource = storage, Resource("finetuned")
    finetuned.train(data)
    assert list(finetuned._weights["labels"]) == list(cold._weights["labels"])
    texts = ["are companies legally obliged to get iso", "play jazz", "may we show the logo"]
    assert finetuned.probabilities(texts) == pytest.approx(cold.probabilities(texts), abs=0.02)


def predicted(text: str, intent: str, ranking: tuple[str, ...] = ()) -> Message:
    names = ranking or (intent,)
    return Message(
        data={
            "text": text,
            "intent": {"name": intent, "confidence": 0.9},
            "intent_ranking": [{"name": name, "confidence": 0.9} for name in names],
        }
    )


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
    [row] = trained.probabilities(["are companies legally obliged to get iso"])
    labels = list(trained._weights["labels"])
    assert labels[row.argmax()] == "faq/mandatory"
    assert row.sum() == pytest.approx(1.0)


def test_an_answer_the_encoder_agrees_with_is_kept(trained):
    [result] = trained.process([answered("must every company be iso certified", "faq/mandatory")])
    assert result.get("intent")["name"] == "faq"


def test_an_answer_the_encoder_disagrees_with_becomes_did_you_mean(trained):
    text = "is printing the iso mark on our box ok"
    [result] = trained.process([answered(text, "faq/mandatory")])
    assert result.get("intent") == {"name": "nlu_fallback", "confidence": 0.97}
    assert [i["name"] for i in result.get("intent_ranking")] == ["nlu_fallback", "faq"]
    opinion = result.get("second_opinion")
    assert opinion["answer"] == "faq/mandatory"
    assert opinion["likeliest"] == ["faq/iso_logo"]
    assert opinion["domain"] >= 0.7


def test_a_declined_certification_question_is_offered_a_person(trained):
    [result] = trained.process([predicted("what does an iso audit cost", "out_of_scope")])
    assert result.get("intent")["name"] == "needs_person"
    assert result.get("second_opinion")["answer"] == "out_of_scope"


def test_a_fallback_whose_likeliest_intent_is_off_topic_counts_as_declined(trained):
    ranking = ("nlu_fallback", "out_of_scope", "ask_quote")
    [result] = trained.process([predicted("quote for an iso audit", "nlu_fallback", ranking)])
    assert result.get("intent")["name"] == "needs_person"


def test_a_hand_over_of_an_off_topic_message_becomes_a_decline(trained):
    [result] = trained.process([predicted("what is the weather tomorrow", "ask_quote")])
    assert result.get("intent")["name"] == "out_of_scope"
    assert [i["name"] for i in result.get("intent_ranking")][:2] == ["out_of_scope", "ask_quote"]
    assert result.get("second_opinion")["domain"] < 0.2


def test_an_off_topic_decline_is_untouched(trained):
    [result] = trained.process([predicted("book me a table for dinner", "out_of_scope")])
    assert result.get("intent") == {"name": "out_of_scope", "confidence": 0.9}
    assert result.get("second_opinion") is None


def test_a_quote_question_the_encoder_agrees_with_is_untouched(trained):
    [result] = trained.process([predicted("how much is an iso audit", "ask_quote")])
    assert result.get("intent") == {"name": "ask_quote", "confidence": 0.9}


def test_messages_without_an_faq_answer_are_untouched(trained):
    greeting = Message(data={"text": "hello", "intent": {"name": "greet", "confidence": 0.2}})
    [result] = trained.process([greeting])
    assert result.get("intent") == {"name": "greet", "confidence": 0.2}


def test_did_you_mean_without_a_likely_answer_offers_a_person(trained):
    ranking = ("nlu_fallback", "ask_quote", "faq")
    [result] = trained.process([predicted("what would an audit cost us", "nlu_fallback", ranking)])
    assert result.get("intent")["name"] == "needs_person"
    assert result.get("second_opinion")["answer"] == "nlu_fallback"


def test_a_word_or_two_keep_did_you_mean(trained):
    ranking = ("nlu_fallback", "ask_quote", "faq")
    [result] = trained.process([predicted("audit price", "nlu_fallback", ranking)])
    assert result.get("intent")["name"] == "nlu_fallback"
    config = {**trained.config, "min_words": 1}
    relaxed = SecondOpinion(config, trained._model_storage, trained._resource, trained._weights)
    [result] = relaxed.process([predicted("audit price", "nlu_fallback", ranking)])
    assert result.get("intent")["name"] == "needs_person"


def test_did_you_mean_of_small_talk_becomes_a_decline(trained):
    ranking = ("nlu_fallback", "greet")
    [result] = trained.process([predicted("play some music", "nlu_fallback", ranking)])
    assert result.get("intent")["name"] == "out_of_scope"


def test_a_request_for_a_person_is_never_declined(trained):
    [result] = trained.process([predicted("what is the weather tomorrow", "request_human")])
    assert result.get("intent") == {"name": "request_human", "confidence": 0.9}


def test_an_answer_kept_as_the_encoder_s_second_choice_carries_its_opinion(trained):
    config = {**trained.config, "agree_within": 2}
    lenient = SecondOpinion(config, trained._model_storage, trained._resource, trained._weights)
    text = "is printing the iso mark on our box ok"
    [result] = lenient.process([answered(text, "faq/mandatory")])
    assert result.get("intent")["name"] == "faq"
    opinion = result.get("second_opinion")
    assert opinion["answer"] == "faq/mandatory"
    assert opinion["likeliest"] == ["faq/iso_logo", "faq/mandatory"]
    [agreed] = lenient.process([answered("must every company be iso certified", "faq/mandatory")])
    assert agreed.get("second_opinion") is None
