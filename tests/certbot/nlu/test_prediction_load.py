import pytest
import tensorflow as tf
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.nlu.classifiers.diet_classifier import DIET
from rasa.nlu.selectors.response_selector import DIET2BOW, DIET2DIET
from rasa.utils import train_utils

from certbot.nlu.batched_classifiers import BatchedDIETClassifier, BatchedResponseSelector
from certbot.nlu.prediction_load import PredictionLoadedDIET
from certbot.tools.clinc import EVALUATION_FILE, evaluation_queries, load
from certbot.tools.evaluate import load_agent, load_held_out, parse_all
from tests.servers import MODEL


def models_of(agent):
    """The TensorFlow models of the agent's DIET and ResponseSelector."""
    nodes = agent.processor.graph_runner._instantiated_nodes.values()
    components = [node._component for node in nodes]
    return [
        c.model
        for c in components
        if isinstance(c, BatchedDIETClassifier | BatchedResponseSelector)
    ]


def test_the_models_load_without_a_training_step_and_predict_as_rasas_load_does(monkeypatch):
    texts = [text for text, _ in load_held_out()[:60]]
    texts += [text for text, _ in evaluation_queries(load(EVALUATION_FILE))[:60]]
    texts += ["hi", "who hands out iso 9001 certificates", "iso " * 300]

    agent = load_agent(MODEL)
    assert [type(model).__name__ for model in models_of(agent)] == [
        "PredictionLoadedDIET",
        "PredictionLoadedDIET2BOW",
    ]
    # No optimizer was built: the training step was never traced.
    assert all(model.optimizer is None for model in models_of(agent))
    ours = parse_all(agent, texts)

    monkeypatch.setattr(BatchedDIETClassifier, "model_class", staticmethod(lambda: DIET))
    monkeypatch.setattr(
        BatchedResponseSelector,
        "model_class",
        staticmethod(lambda text_labels: DIET2DIET if text_labels else DIET2BOW),
    )
    reference = load_agent(MODEL)
    assert all(model.optimizer is not None for model in models_of(reference))
    rasas = parse_all(reference, texts)

    for text, mine, theirs in zip(texts, ours, rasas, strict=True):
        assert mine["intent"] == theirs["intent"], text
        ranked = [
            (i["name"], pytest.approx(i["confidence"], abs=1e-6)) for i in theirs["intent_ranking"]
        ]
        assert [(i["name"], i["confidence"]) for i in mine["intent_ranking"]] == ranked
        assert mine.get("response_selector") == theirs.get("response_selector"), text


def test_a_checkpoint_without_a_weight_the_model_uses_fails_the_load(tmp_path):
    storage, metadata = LocalModelStorage.from_model_archive(tmp_path / "storage", MODEL)
    [node] = [n for n in metadata.predict_schema.nodes.values() if n.uses is BatchedDIETClassifier]
    config = {**BatchedDIETClassifier.get_default_config(), **node.config}
    config = train_utils.update_similarity_type(train_utils.update_confidence_type(config))
    with storage.read_from(node.resource) as directory:
        _, specs, labels, example, _ = BatchedDIETClassifier._load_from_files(directory)
        model = BatchedDIETClassifier._load_model(specs, labels, config, example, directory)
        assert isinstance(model, PredictionLoadedDIET)
        # The same checkpoint without the intent labels' embedding layer (the model's own
        # `_checkpoint` holds the model again: left out, or it would save that layer).
        children = {**model._trackable_children(), "_tf_layers": dict(model._tf_layers)}
        del children["_tf_layers"]["embed.label"], children["_checkpoint"]
        partial = tf.train.Checkpoint(model=tf.train.Checkpoint(**children))
        partial.write(str(directory / "BatchedDIETClassifier.tf_model"))
        with pytest.raises(AssertionError, match=r"embed_label/.*kernel"):
            BatchedDIETClassifier._load_model(specs, labels, config, example, directory)


def loaded_for_finetuning(tmp_path, component):
    """DIET and its TensorFlow model as the finetuning graph loads them from the shipped model."""
    storage, metadata = LocalModelStorage.from_model_archive(tmp_path, MODEL)
    [node] = [n for n in metadata.predict_schema.nodes.values() if n.uses is component]
    config = {**component.get_default_config(), **node.config}
    config = train_utils.update_similarity_type(train_utils.update_confidence_type(config))
    with storage.read_from(node.resource) as directory:
        _, specs, labels, example, _ = component._load_from_files(directory)
        return component._load_model(specs, labels, config, example, directory, finetune_mode=True)


def values(variables):
    """Names (without the scope a training step creates them in) and values of variables."""
    return [(v.name.removeprefix("Adam/"), v.numpy()) for v in variables]


def test_a_model_loaded_to_finetune_has_rasas_weights_and_optimizer_state(tmp_path, monkeypatch):
    ours = loaded_for_finetuning(tmp_path / "ours", BatchedDIETClassifier)
    assert isinstance(ours, PredictionLoadedDIET)
    assert not ours.prepared_for_prediction
    monkeypatch.setattr(BatchedDIETClassifier, "model_class", staticmethod(lambda: DIET))
    rasas = loaded_for_finetuning(tmp_path / "rasas", BatchedDIETClassifier)
    assert type(rasas) is DIET

    for mine, theirs in [
        (ours.variables, rasas.variables),
        (ours.optimizer.variables(), rasas.optimizer.variables()),
    ]:
        assert len(mine) == len(theirs) > 10
        for (name, value), (their_name, their_value) in zip(
            values(mine), values(theirs), strict=True
        ):
            assert name == their_name
            assert (value == their_value).all(), name
    assert ours.optimizer.iterations.numpy() > 0  # the trained model's state, not a new one
