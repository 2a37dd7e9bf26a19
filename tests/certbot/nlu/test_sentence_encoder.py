from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from certbot.nlu.sentence_encoder import (
    MAX_TOKENS,
    EncoderUnavailable,
    SentenceEncoder,
    file_sha256,
    model_dir,
    shared_encoder,
)


def test_the_installed_weights_are_the_expected_file():
    assert file_sha256(model_dir() / "model.safetensors") == (
        "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
    )


def test_other_weights_are_refused_before_loading(tmp_path):
    (tmp_path / "model.safetensors").write_bytes(b"not the model")
    with pytest.raises(EncoderUnavailable, match="not the expected"):
        SentenceEncoder(tmp_path)


def test_missing_weights_are_refused(tmp_path):
    with pytest.raises(EncoderUnavailable, match="no encoder weights"):
        SentenceEncoder(tmp_path)


def test_vectors_are_unit_length_and_meaningful():
    vectors = shared_encoder().encode(
        ["who issues ISO certificates?", "which organisation gives out iso certs", "play jazz"]
    )
    assert vectors.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.3


def test_a_vector_does_not_depend_on_its_batch():
    text = "is iso certification mandatory"
    alone = shared_encoder().encode([text])[0]
    beside_long = shared_encoder().encode([text, "word " * (MAX_TOKENS * 2)])[0]
    np.testing.assert_allclose(alone, beside_long, atol=1e-5)


def test_no_text_gives_no_vector():
    assert shared_encoder().encode([]).shape == (0, 384)


@pytest.fixture
def encoder_with_store(tmp_path):
    """The shared encoder keeping vectors in `tmp_path` for one test, then none again."""
    encoder = shared_encoder()
    encoder.keep_vectors(tmp_path)
    yield encoder
    encoder.store = None


def test_stored_vectors_are_the_encoded_ones_and_not_recomputed(encoder_with_store, monkeypatch):
    texts = ["who issues ISO certificates?", "play jazz", "who issues ISO certificates?"]
    first = encoder_with_store.encode(texts)
    np.testing.assert_allclose(first, shared_encoder()._encode(texts), atol=1e-5)
    assert set(encoder_with_store.store.get(texts)) == {"who issues ISO certificates?", "play jazz"}

    encoded: list[list[str]] = []
    original = encoder_with_store._encode
    monkeypatch.setattr(
        encoder_with_store, "_encode", lambda batch: encoded.append(batch) or original(batch)
    )
    again = encoder_with_store.encode(["play jazz", "a new text", "who issues ISO certificates?"])
    assert encoded == [["a new text"]]
    np.testing.assert_allclose(again[0], first[1], atol=1e-6)
    np.testing.assert_allclose(again[2], first[0], atol=1e-6)


def test_a_store_that_is_not_a_database_costs_only_the_encoding(tmp_path, caplog):
    encoder = shared_encoder()
    encoder.keep_vectors(tmp_path)
    try:
        encoder.store.path.write_bytes(b"not a database" * 100)
        encoder.keep_vectors(tmp_path)
        vectors = encoder.encode(["is iso certification mandatory"])
        assert encoder.store is None
    finally:
        encoder.store = None
    assert vectors.shape == (1, 384)
    assert "no sentence vector store" in caplog.text


def test_a_store_opened_in_one_thread_is_read_in_another(encoder_with_store):
    encoder_with_store.encode(["opened elsewhere"])
    with ThreadPoolExecutor(1) as other:
        found = other.submit(encoder_with_store.store.get, ["opened elsewhere"]).result()
    assert list(found) == ["opened elsewhere"]
