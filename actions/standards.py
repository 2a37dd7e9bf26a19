"""Recognise the standard a visitor names, so answers can echo it ("ISO 14001")."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

_NAME = re.compile(
    r"^(?P<prefix>ISO/IEC|IEC/ISO|ISO|IEC)?[-/]?(?P<number>\d{3,5}(?:-\d{1,2})*)(?::(?P<year>\d{4}))?$"
)
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


class ActionExtractStandard(Action):
    """Custom slot mapping: `standard` holds the standard named in the latest message only."""

    def name(self) -> str:
        return "action_extract_standard"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        for value in tracker.get_latest_entity_values("standard"):
            standard = normalise_standard(str(value))
            if standard:
                return [SlotSet("standard", standard)]
        return [SlotSet("standard", None)]
