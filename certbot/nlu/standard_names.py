"""Standard names as visitors type them ("iso9001", "17025"), spelt the canonical way.

The spaCy pipeline (certbot/tools/spacy_pipeline.py) marks standard names as `standard` entities
with the text as typed; `StandardNames`, placed after `SpacyEntityExtractor` in config.yml,
replaces each value by its canonical spelling ("ISO 9001", "ISO/IEC 17025") and drops the
ones that are not standard names. The `standard` slot fills from the entity, so answers
can echo the standard the visitor's message names without a call to the action server.

A message that names none gets one `standard` entity whose value is None: Rasa's
`from_entity` mapping then empties the slot, so a later answer never speaks of a standard
named questions earlier ("Is certification mandatory?" answered about ISO 14001).
"""

from __future__ import annotations

import re

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import ENTITIES, ENTITY_ATTRIBUTE_TYPE, ENTITY_ATTRIBUTE_VALUE
from rasa.shared.nlu.training_data.message import Message

from certbot.nlu.components import ConfiguredComponent

ENTITY = "standard"

_NAME = re.compile(
    r"^(?P<prefix>ISO/IEC|IEC/ISO|ISO|IEC)?[-/]?(?P<number>\d{3,5}(?:-\d{1,2})*)(?::(?P<year>\d{4}))?$"
)
# The entity of a message that names no standard; it empties the `standard` slot.
NONE_NAMED = {"entity": ENTITY, "value": None, "start": 0, "end": 0, "extractor": "StandardNames"}
# Joint ISO/IEC standards visitors often call plain "ISO ...".
_JOINT_ISO_IEC = re.compile(r"^(170\d\d|2700\d|20000)(-\d+)?$")


def normalise_standard(raw: str) -> str | None:
    """Return the canonical spelling of a standard name, or None if it is not one.

    "iso9001" -> "ISO 9001", "iso/iec 17025" -> "ISO/IEC 17025", "17025" -> "ISO/IEC 17025",
    "ISO-14001:2015" -> "ISO 14001:2015".
    """
    match = _NAME.match(re.sub(r"\s+", "", raw.upper()))
    if not match:
        return None
    prefix = match["prefix"] or "ISO"
    number = match["number"]
    if prefix == "IEC/ISO" or (prefix == "ISO" and _JOINT_ISO_IEC.match(number)):
        prefix = "ISO/IEC"
    year = f":{match['year']}" if match["year"] else ""
    return f"{prefix} {number}{year}"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class StandardNames(ConfiguredComponent):
    """Canonical values for `standard` entities; entities that are no standard dropped."""

    def process(self, messages: list[Message]) -> list[Message]:
        """Normalise the `standard` entities of each message."""
        for message in messages:
            kept = []
            named = False
            for entity in message.get(ENTITIES) or []:
                if entity.get(ENTITY_ATTRIBUTE_TYPE) == ENTITY:
                    value = normalise_standard(str(entity.get(ENTITY_ATTRIBUTE_VALUE, "")))
                    if value is None:
                        continue
                    entity = {**entity, ENTITY_ATTRIBUTE_VALUE: value}
                    named = True
                kept.append(entity)
            if not named:
                kept.append(NONE_NAMED)
            message.set(ENTITIES, kept, add_to_output=True)
        return messages
