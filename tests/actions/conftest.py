import json
from pathlib import Path

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def dispatcher():
    return CollectingDispatcher()


@pytest.fixture
def load_tracker():
    """Build a rasa-sdk Tracker from a JSON fixture, as the action server receives it."""

    def load(name: str) -> Tracker:
        return Tracker.from_dict(json.loads((FIXTURES / f"{name}.json").read_text()))

    return load
