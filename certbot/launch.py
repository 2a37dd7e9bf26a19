"""How the bot and its action server are started: their command lines and configuration.

One launcher for `make run` (scripts/run.sh, through the command line below), the tests
(tests/servers.py) and the benchmark (bench/bots.py): each adapts the project's
endpoints.yml and credentials.yml here and starts the same commands, the bot always
through its entry point (certbot/serve.py).

    python -m certbot.launch files DIR --actions-port N [--model-server URL] [--endpoints F]
        write DIR/endpoints.yml (and DIR/credentials.yml) for a bot
    python -m certbot.launch command bot|actions --port N [--dir DIR] [--model M] [--interface A]
        print the command line, one NUL-terminated word each (for `mapfile -d ''`)
"""

from __future__ import annotations

import argparse
import socket
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
ENDPOINTS = ROOT / "endpoints.yml"
CREDENTIALS = ROOT / "credentials.yml"
# How often a bot asks the model server (the console) for a newer live model, in seconds.
PULL_SECONDS = 2
PULL_TOKEN = "${MODEL_PULL_TOKEN}"  # Rasa expands it from the bot's environment


def free_port() -> int:
    """A TCP port nothing listens on at the moment, on 127.0.0.1."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def bot_command(
    port: int,
    endpoints: Path,
    credentials: Path = CREDENTIALS,
    model: Path | None = None,
    interface: str | None = None,
) -> list[str]:
    """`rasa run` through the bot's entry point: the model to load, or the model server's."""
    command = [sys.executable, "-m", "certbot.serve", "run", "--port", str(port)]
    command += ["--endpoints", str(endpoints), "--credentials", str(credentials)]
    if model is not None:
        command += ["--model", str(model)]
    if interface is not None:
        command += ["--interface", interface]
    return command


def actions_command(port: int) -> list[str]:
    """The action server (rasa-sdk) serving the project's actions/ on `port`."""
    return [sys.executable, "-m", "rasa_sdk", "--port", str(port), "--actions", "actions"]


def endpoints(
    actions_url: str,
    *,
    tracker_store: dict[str, Any] | None = None,
    lock_store: dict[str, Any] | None = None,
    model_server: str | None = None,
    base: Path = ENDPOINTS,
) -> dict[str, Any]:
    """`base`'s endpoints with the action server at `actions_url` and the sections given."""
    config = yaml.safe_load(base.read_text()) or {}
    config["action_endpoint"] = {"url": actions_url}
    if tracker_store is not None:
        config["tracker_store"] = tracker_store
    if lock_store is not None:
        config["lock_store"] = lock_store
    if model_server is not None:
        config["models"] = {
            "url": model_server,
            "token": PULL_TOKEN,
            "wait_time_between_pulls": PULL_SECONDS,
        }
    return config


def credentials(
    *,
    allowed_origins: list[str] | None = None,
    max_messages: int | None = None,
    max_messages_per_ip: int | None = None,
    base: Path = CREDENTIALS,
) -> dict[str, Any]:
    """`base`'s channels, with other allowed origins or rate limits where given."""
    channels: dict[str, Any] = yaml.safe_load(base.read_text()) or {}
    for section in channels.values():
        if allowed_origins is not None and "allowed_origins" in section:
            section["allowed_origins"] = allowed_origins
        if max_messages is not None:
            section["max_messages_per_visitor"] = max_messages
        if max_messages_per_ip is not None:
            section["max_messages_per_ip"] = max_messages_per_ip
    return channels


def write_yaml(path: Path, config: dict[str, Any]) -> Path:
    """Write `config` as YAML to `path` (its folder made if needed); the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def main(argv: list[str] | None = None) -> int:
    """The command line (see the module's docstring)."""
    parser = argparse.ArgumentParser(prog="python -m certbot.launch")
    commands = parser.add_subparsers(dest="what", required=True)
    files = commands.add_parser("files", help="write a bot's endpoints.yml and credentials.yml")
    files.add_argument("dir", type=Path)
    files.add_argument("--actions-port", type=int, required=True)
    files.add_argument("--model-server", help="URL of the live model (the console's)")
    files.add_argument("--endpoints", type=Path, default=ENDPOINTS, help="the base profile")
    command = commands.add_parser("command", help="print a server's command line")
    command.add_argument("server", choices=["bot", "actions"])
    command.add_argument("--port", type=int, required=True)
    command.add_argument("--dir", type=Path, help="where `files` wrote the bot's files")
    command.add_argument("--model", type=Path)
    command.add_argument("--interface", help="the address the bot listens on")
    args = parser.parse_args(argv)
    if args.what == "files":
        actions_url = f"http://localhost:{args.actions_port}/webhook"
        config = endpoints(actions_url, model_server=args.model_server, base=args.endpoints)
        write_yaml(args.dir / "endpoints.yml", config)
        write_yaml(args.dir / "credentials.yml", credentials())
        return 0
    if args.server == "actions":
        words = actions_command(args.port)
    else:
        folder = args.dir or ROOT
        words = bot_command(
            args.port,
            folder / "endpoints.yml",
            folder / "credentials.yml",
            args.model,
            args.interface,
        )
    sys.stdout.write("".join(word + "\0" for word in words))
    return 0


if __name__ == "__main__":
    sys.exit(main())
