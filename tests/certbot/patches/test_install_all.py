"""The patches are installed together, once, only on the Rasa version they were tested with."""

from __future__ import annotations

import subprocess
import sys

import pytest

from certbot.patches import TESTED_RASA, UntestedRasa, install_all
from tests.servers import ROOT

INSTALL_AND_REPORT = """
import logging
from rasa.core.actions import action, forms
from rasa.core.processor import MessageProcessor
from rasa.engine.runner.dask import DaskGraphRunner
from certbot.patches import install_all
logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
first, again = install_all(), install_all()
print(first == again)
print(DaskGraphRunner.run.__module__)
print(action.RemoteAction.__name__, forms.RemoteAction.__name__)
print(MessageProcessor._parse_message_with_graph.__module__)
"""


def test_another_rasa_version_is_refused_before_anything_is_patched():
    with pytest.raises(UntestedRasa, match=f"tested with Rasa {TESTED_RASA}, not 3.7.0"):
        install_all("3.7.0")


@pytest.mark.integration  # a process of its own: patches change Rasa's classes for good
def test_every_patch_is_installed_once_and_logged():
    result = subprocess.run(
        [sys.executable, "-c", INSTALL_AND_REPORT],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=True,
    )
    same, runner, actions, parse = result.stdout.split("\n")[:4]
    assert same == "True"
    assert runner == "certbot.patches.graph_runner"
    assert actions == "RemoteActionWithFallback RemoteActionWithFallback"
    assert parse == "certbot.patches.nlu_cache"  # the cache wraps parsing ahead
    assert (
        f"Rasa {TESTED_RASA} patched: action_fallback, action_validation, parse_ahead, "
        "nlu_cache, graph_runner" in result.stderr
    )
