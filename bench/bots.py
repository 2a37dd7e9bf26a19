"""The two bots under load: ours and the peer, a day-one `rasa init` bot.

Ours is served as in production (widget channel, action server); the peer as `rasa init`
made it (default pipeline and policies, its own data, REST channel).
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from bench.load import ConversationSource, Endpoint
from bench.messages import CERTIFICATION_COMPOSERS, SentTexts, certification_visitors, mood_visitors
from bench.servers import Service
from certbot import launch
from certbot.launch import free_port
from certbot.tools.evaluate import HELD_OUT_FILE, load_held_out

ROOT = Path(__file__).resolve().parents[1]
RASA = str(Path(sys.executable).parent / "rasa")
PEER_DIR = ROOT / "var" / "bench" / "peer"
BENCH_ORIGIN = "http://bench.example"
# The widget's per-visitor and per-IP limits, raised so that the bench measures the bot
# rather than the rate limiter (all bench visitors come from one address).
BENCH_RATE_LIMIT = 1_000_000
LOCK_STORE = "certbot.stores.lock_store.AtomicRedisLockStore"
QUIET_ENV = {"RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "3"}
REQUEST_HUMAN, CONSENT = "I'd like to talk to a person", "yes"
CONTACT_DETAILS = ("contact_name", "contact_email", "contact_question")


def contact_turns(rng: random.Random) -> list[str]:
    """Asking for a person, then name, e-mail, question (the visitor's own) and consent."""
    details = [CERTIFICATION_COMPOSERS[kind](rng) for kind in CONTACT_DETAILS]
    return [REQUEST_HUMAN, *details, CONSENT]


@dataclass
class BotUnderTest:
    """A bot's processes, where to send messages and what its visitors say in each load.

    `loads` maps a load's name ("new": every text new, "repeated") to its conversations.
    """

    name: str
    services: list[Service]
    endpoint: Endpoint
    loads: dict[str, ConversationSource]
    settings: dict[str, str] = field(default_factory=dict)


def phrasings(path: Path) -> dict[str, list[str]]:
    """Example texts of a Rasa NLU file by intent (retrieval intents by their base name)."""
    texts: dict[str, list[str]] = defaultdict(list)
    for text, intent in load_held_out(path):
        texts[intent.split("/")[0]].append(text)
    return texts


def our_conversations() -> ConversationSource:
    """Held-out visitor phrasings: FAQ visits, off-topic then FAQ, and contact requests.

    Most texts (80-90% in a 60 s load) repeat one sent earlier: the parse cache's best case.
    """
    texts = phrasings(ROOT / HELD_OUT_FILE)

    def draw(rng: random.Random) -> list[str]:
        kind = rng.random()
        if kind < 0.6:
            turns = ["greet", "faq", "faq", "thank"]
        elif kind < 0.85:
            turns = ["out_of_scope", "faq"]
        else:
            return contact_turns(rng)
        return [rng.choice(texts[intent]) for intent in turns]

    return draw


def peer_conversations() -> ConversationSource:
    """The `rasa init` bot's own phrasings along its stories and rules."""
    texts = phrasings(PEER_DIR / "data" / "nlu.yml")
    paths = [
        ["greet", "mood_great", "goodbye"],
        ["greet", "mood_unhappy", "affirm"],
        ["greet", "mood_unhappy", "deny"],
        ["bot_challenge", "goodbye"],
    ]

    def draw(rng: random.Random) -> list[str]:
        return [rng.choice(texts[intent]) for intent in rng.choice(paths)]

    return draw


def our_bot(
    workdir: Path, model: Path, sent: SentTexts, bot_workers: int = 1, action_workers: int = 1
) -> BotUnderTest:
    """Our bot and action server with the project's configuration, adapted for the bench.

    Its every-text-new visitors draw their texts from `sent`, shared with the peer's.

    The tracker store file is in `workdir`, the bench origin is allowed and the rate
    limits are raised; with several bot workers, our Redis lock store (Rasa requires one).
    """
    actions_port, bot_port = free_port(), free_port()
    locks = {"type": LOCK_STORE, "url": "127.0.0.1", "key_prefix": "bench"}
    endpoints = launch.endpoints(
        f"http://127.0.0.1:{actions_port}/webhook", lock_store=locks if bot_workers > 1 else None
    )
    endpoints["tracker_store"]["db"] = str(workdir / "conversations.db")
    credentials = launch.credentials(
        allowed_origins=[BENCH_ORIGIN],
        max_messages=BENCH_RATE_LIMIT,
        max_messages_per_ip=BENCH_RATE_LIMIT,
    )
    (workdir / "conversations.db").unlink(missing_ok=True)
    endpoints_file = launch.write_yaml(workdir / "endpoints.yml", endpoints)
    credentials_file = launch.write_yaml(workdir / "credentials.yml", credentials)
    bot_env = {**QUIET_ENV, "SANIC_WORKERS": str(bot_workers)}
    actions_env = {**QUIET_ENV, "ACTION_SERVER_SANIC_WORKERS": str(action_workers)}
    services = [
        Service(
            "actions", launch.actions_command(actions_port), ROOT, actions_env,
            workdir / "actions.log",
        ),
        Service(
            "bot", launch.bot_command(bot_port, endpoints_file, credentials_file, model),
            ROOT, bot_env, workdir / "bot.log",
        ),
    ]  # fmt: skip
    endpoint = Endpoint(
        f"http://127.0.0.1:{bot_port}/webhooks/widget/webhook",
        {"Content-Type": "text/plain", "Origin": BENCH_ORIGIN},
        issues_ids=True,
    )
    settings = {
        "channel": "widget (text/plain, allowed Origin)",
        "rate limits": f"raised to {BENCH_RATE_LIMIT:,} per visitor and per IP for the bench",
        "entry point": "python -m certbot.serve run (patches installed)",
        "tracker store": "SQLite",
        "bot workers": str(bot_workers) + (" + Redis lock store" if bot_workers > 1 else ""),
        "action server workers": str(action_workers),
    }
    loads: dict[str, ConversationSource] = {
        "new": certification_visitors(sent),
        "repeated": our_conversations(),
    }
    return BotUnderTest("ours", services, endpoint, loads, settings)


def peer_model() -> Path:
    """The peer's trained model: `rasa init` (which trains) on first use, then cached."""
    models = sorted((PEER_DIR / "models").glob("*.tar.gz"))
    if not models:
        env = {**os.environ, **QUIET_ENV}
        if (PEER_DIR / "config.yml").exists():
            command = [RASA, "train", "--out", "models"]
        else:
            PEER_DIR.mkdir(parents=True, exist_ok=True)
            command = [RASA, "init", "--no-prompt", "--init-dir", str(PEER_DIR)]
        subprocess.run(command, cwd=PEER_DIR, env=env, check=True)
        models = sorted((PEER_DIR / "models").glob("*.tar.gz"))
    return models[-1]


def peer_bot(workdir: Path, sent: SentTexts) -> BotUnderTest:
    """The `rasa init` bot as generated: `rasa run` in its folder, no action server.

    Its own endpoints and credentials apply: in-memory tracker store, REST channel. Its
    every-text-new visitors draw their texts from `sent`, shared with ours.
    """
    model = peer_model()
    port = free_port()
    service = Service(
        "bot",
        [RASA, "run", "--model", str(model), "--port", str(port)],
        PEER_DIR, QUIET_ENV, workdir / "peer.log",
    )  # fmt: skip
    endpoint = Endpoint(f"http://127.0.0.1:{port}/webhooks/rest/webhook")
    settings = {
        "channel": "rest (application/json)",
        "tracker store": "in memory (rasa init default)",
        "pipeline": "rasa init defaults (DIET 100 epochs, ResponseSelector)",
        "policies": "rasa init defaults (Memoization, Rule, UnexpecTED, TED)",
    }
    loads: dict[str, ConversationSource] = {
        "new": mood_visitors(sent),
        "repeated": peer_conversations(),
    }
    return BotUnderTest("peer", [service], endpoint, loads, settings)
