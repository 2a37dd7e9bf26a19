"""What training learns from, without the answers' texts: when only those change, no training.

`shape_of` fingerprints the training inputs as Rasa reads them (domain.yml, data/ and the
reviewed file, merged by Rasa's importer) with every answer reduced to its name: the
config file, the domain without response texts, the NLU examples by text, intent and FAQ
name (not the answer text Rasa copies onto them), synonyms, regexes, lookup tables, the
rules and stories. Two projects of the same shape train the same model but for the
answers it says (retrain/archive.py), so an answer edit goes live as the live
model with the new answers (retrain/make.py).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rasa.shared.exceptions import RasaException
from rasa.shared.importers.importer import TrainingDataImporter
from ruamel.yaml.error import YAMLError

from retrain.dataset import training_data

SHAPE_FILE = "shape.json"

logger = logging.getLogger(__name__)


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Without Rasa's warnings about the data: training prints them, not a fingerprint."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        yield


def importer_for(project: Path, config: Path) -> TrainingDataImporter:
    """Rasa's importer over the project's training inputs, as `rasa train` reads them."""
    return TrainingDataImporter.load_from_config(
        str(config), str(project / "domain.yml"), [str(path) for path in training_data(project)]
    )


def shape_of(importer: TrainingDataImporter, config: Path) -> str:
    """SHA-256 of the training inputs with each answer reduced to its name."""
    domain = dict(importer.get_domain().as_dict())  # a copy: as_dict is the domain's own
    answers = sorted(domain.pop("responses", {}))
    nlu = importer.get_nlu_data()
    examples = sorted(
        json.dumps(
            [m.get(key) for key in ("text", "intent", "intent_response_key", "entities")],
            sort_keys=True,
            default=str,
        )
        for m in nlu.training_examples
    )
    parts: dict[str, Any] = {
        "config": config.read_text(encoding="utf-8"),
        "domain": domain,
        "answers": answers,
        "examples": examples,
        "synonyms": nlu.entity_synonyms,
        "regexes": nlu.regex_features,
        "lookups": nlu.lookup_tables,
        "stories": importer.get_stories().fingerprint(),
    }
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def project_shape(project: Path, config: Path) -> str | None:
    """`shape_of` the project's current inputs; None when Rasa cannot read them."""
    try:
        with quiet():
            return shape_of(importer_for(project, config), config)
    except (RasaException, YAMLError, OSError, ValueError) as error:
        logger.warning(
            "the training inputs in %s cannot be read (%s): no shape kept, so an answer "
            "edit will train in full",
            project,
            type(error).__name__,
        )
        return None
