import pytest
from rasa.shared.nlu.training_data.message import Message

from certbot.nlu.standard_names import NONE_NAMED, StandardNames, normalise_standard


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("iso 9001", "ISO 9001"),
        ("iso9001", "ISO 9001"),
        ("ISO-14001:2015", "ISO 14001:2015"),
        ("iso/iec 17025", "ISO/IEC 17025"),
        ("iso / iec 27001", "ISO/IEC 27001"),
        ("17025", "ISO/IEC 17025"),
        ("iso 17021-1", "ISO/IEC 17021-1"),
        ("45001", "ISO 45001"),
        ("iec/iso 17065", "ISO/IEC 17065"),
    ],
)
def test_normalise_standard(raw, expected):
    assert normalise_standard(raw) == expected


@pytest.mark.parametrize("raw", ["", "iso", "certificate", "ISO 12", "9001abc"])
def test_not_a_standard(raw):
    assert normalise_standard(raw) is None


def test_standard_entities_get_their_canonical_value_and_others_are_kept():
    entities = [
        {"entity": "standard", "value": "iso14001", "start": 4, "end": 12},
        {"entity": "standard", "value": "iso", "start": 20, "end": 23},
        {"entity": "rating", "value": "5", "start": 30, "end": 31},
    ]
    [message] = StandardNames({}).process([Message(data={"text": "x", "entities": entities})])
    assert message.get("entities") == [
        {"entity": "standard", "value": "ISO 14001", "start": 4, "end": 12},
        {"entity": "rating", "value": "5", "start": 30, "end": 31},
    ]
    assert "entities" in message.as_dict(only_output_properties=True)


def test_a_message_naming_no_standard_gets_the_entity_that_empties_the_slot():
    [message] = StandardNames({}).process([Message(data={"text": "hello"})])
    assert message.get("entities") == [NONE_NAMED]
    assert NONE_NAMED["entity"] == "standard" and NONE_NAMED["value"] is None
    rating = {"entity": "rating", "value": "up", "start": 0, "end": 2}
    not_a_standard = {"entity": "standard", "value": "iso", "start": 3, "end": 6}
    [message] = StandardNames({}).process(
        [Message(data={"text": "x", "entities": [rating, not_a_standard]})]
    )
    assert message.get("entities") == [rating, NONE_NAMED]
