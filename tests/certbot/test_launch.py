"""One launcher: the bot's files and command lines, for make run, the tests and the bench."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml
from rasa.core.utils import read_endpoints_from_path

from certbot import launch
from tests.servers import ROOT


def run_launcher(*args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "certbot.launch", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return result.stdout


def test_files_point_the_bot_at_its_action_server_and_the_console(tmp_path, monkeypatch):
    run_launcher(
        "files", str(tmp_path), "--actions-port", "5999",
        "--model-server", "http://localhost:5998/api/models/live",
    )  # fmt: skip
    monkeypatch.setenv("MODEL_PULL_TOKEN", "s3cret")
    read = read_endpoints_from_path(tmp_path / "endpoints.yml")
    assert read.action.url == "http://localhost:5999/webhook"
    assert (read.model.url, read.model.token) == ("http://localhost:5998/api/models/live", "s3cret")
    assert read.model.kwargs["wait_time_between_pulls"] == launch.PULL_SECONDS
    shipped = yaml.safe_load((ROOT / "endpoints.yml").read_text())
    assert read.tracker_store.kwargs["db"] == shipped["tracker_store"]["db"]
    written = yaml.safe_load((tmp_path / "credentials.yml").read_text())
    assert written == yaml.safe_load((ROOT / "credentials.yml").read_text())


def test_without_a_model_server_the_bot_loads_its_model_itself(tmp_path):
    run_launcher("files", str(tmp_path), "--actions-port", "5999")
    assert "models" not in yaml.safe_load((tmp_path / "endpoints.yml").read_text())


def test_commands_come_one_nul_terminated_word_each(tmp_path):
    words = run_launcher(
        "command", "bot", "--port", "5100", "--dir", str(tmp_path), "--model", "a model.tar.gz"
    ).split("\0")
    assert words[-1] == ""
    files = tmp_path / "endpoints.yml", tmp_path / "credentials.yml"
    assert words[:-1] == launch.bot_command(5100, *files, Path("a model.tar.gz"))
    assert words[1:4] == ["-m", "certbot.serve", "run"]
    actions = run_launcher("command", "actions", "--port", "5101").split("\0")[:-1]
    assert actions == launch.actions_command(5101)


def test_channels_can_take_other_origins_and_limits():
    channels = launch.credentials(allowed_origins=["https://a.example"], max_messages_per_ip=7)
    shipped = yaml.safe_load((ROOT / "credentials.yml").read_text())
    assert channels.keys() == shipped.keys()
    for name, section in channels.items():
        assert section["max_messages_per_ip"] == 7
        assert section["max_messages_per_visitor"] == shipped[name]["max_messages_per_visitor"]
        if "allowed_origins" in shipped[name]:
            assert section["allowed_origins"] == ["https://a.example"]
