import pytest

from actions.standards import ActionExtractStandard, normalise_standard


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


async def test_slot_holds_the_standard_of_the_latest_message_only(load_tracker, dispatcher):
    tracker = load_tracker("did_you_mean_first")
    tracker.latest_message["entities"] = [{"entity": "standard", "value": "iso 14001"}]
    assert await ActionExtractStandard().run(dispatcher, tracker, {}) == [
        {"event": "slot", "name": "standard", "value": "ISO 14001", "timestamp": None}
    ]

    tracker.latest_message["entities"] = []
    assert await ActionExtractStandard().run(dispatcher, tracker, {}) == [
        {"event": "slot", "name": "standard", "value": None, "timestamp": None}
    ]
