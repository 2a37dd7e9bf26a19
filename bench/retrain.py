"""`python -m bench.retrain` (`make bench-retrain`): click to live, timed on a running stack.

With `make run` running (or `make scale`) and a reviewer's account: it asks the bot a
question the live model does not answer with the wanted FAQ, annotates that message in the
inbox with the FAQ, clicks Retrain (the console's API, as the button does) and times each
stage of the job and then the moment the bot answers the question with the FAQ (the bots
pull the live model every 2 s). It changes the project as a reviewer would: run it on a
copy (docs/retraining.md, "Measurements").

    make bench-retrain NAME=alice   (asks the password; piped: one line of stdin)
"""

from __future__ import annotations

import argparse
import getpass
import json
import re
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import requests
import yaml

from bench.console_client import ConsoleClient

ROOT = Path(__file__).resolve().parents[1]
# Visitors' phrasings that the shipped model gets wrong, each with the FAQ that answers it;
# the first the live model does not answer with its FAQ is annotated.
CANDIDATES = [
    ("who actually gives companies their 9001 papers", "faq/who_certifies"),
    ("which organisations are allowed to hand out the certificate", "faq/who_certifies"),
    ("who checks the checkers", "faq/labs_and_bodies"),
    ("whose job is it to audit our 9001 system", "faq/who_certifies"),
    ("can we move our certificate to a cheaper auditor", "faq/certificate_transfer"),
    ("how many years before the whole 9001 audit comes round again", "faq/certification_cycle"),
    ("who keeps an eye on the certifiers themselves", "faq/accreditation"),
    ("do we still need ce marking when we hold 9001", "faq/ce_marking"),
]
POLL_SECONDS = 1.0
JOB_LIMIT_SECONDS = 1800
SWAP_LIMIT_SECONDS = 300


def answer_patterns(faq: str) -> list[re.Pattern[str]]:
    """The FAQ's answer texts from domain.yml, slots matching anything."""
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    patterns = []
    for variant in domain["responses"][f"utter_{faq}"]:
        parts = re.split(r"\{\w+\}", variant["text"])
        patterns.append(re.compile(".+".join(map(re.escape, parts)), re.DOTALL))
    return patterns


class Stack(ConsoleClient):
    """The running bot (REST channel) and console (signed in as a reviewer)."""

    def __init__(self, bot: str, console: str, user: str, password: str) -> None:
        """Sign in to the console; talk to the bot at `bot`."""
        super().__init__(console, user, password)
        self.bot = bot.rstrip("/")

    def ask(self, text: str) -> list[str]:
        """The bot's reply texts to `text` from a new visitor."""
        response = requests.post(
            self.bot + "/webhooks/rest/webhook",
            json={"sender": f"bench-retrain-{uuid.uuid4().hex}", "message": text},
            timeout=60,
        )
        response.raise_for_status()
        return [reply.get("text", "") for reply in response.json()]


def answers(replies: list[str], patterns: list[re.Pattern[str]]) -> bool:
    """True when one reply is one of the FAQ's answers."""
    return any(p.fullmatch(reply) for reply in replies for p in patterns)


def misunderstood(stack: Stack) -> tuple[str, str, list[re.Pattern[str]]]:
    """The first candidate the live model does not answer with its FAQ: text, FAQ, patterns.

    Asking it is what puts it in the inbox.
    """
    for text, faq in CANDIDATES:
        patterns = answer_patterns(faq)
        if not answers(stack.ask(text), patterns):
            return text, faq, patterns
    raise SystemExit("the live model answers every candidate: nothing to correct")


def annotate(stack: Stack, text: str, faq: str) -> None:
    """Assign the FAQ to the inbox group of `text`."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        groups = stack.api("GET", "/api/inbox")["groups"]
        keys = [g["key"] for g in groups if g["text"] == text]
        if keys:
            body = {"action": "assign_intent", "intent": faq, "group": keys}
            stack.api("POST", "/api/inbox/annotate", json=body)
            return
        time.sleep(POLL_SECONDS)
    raise SystemExit(f"{text!r} did not reach the inbox")


def click_to_live(stack: Stack, text: str, patterns: list[re.Pattern[str]]) -> dict[str, Any]:
    """Click Retrain; seconds from the click to each stage, the job's end and the answer.

    The answer: the first reply of the bot that is the FAQ's answer.
    """
    clicked = time.monotonic()
    job_id = stack.api("POST", "/api/models/retrain")["job"]
    stages: dict[str, float] = {}
    while True:
        job = stack.api("GET", f"/api/jobs/{job_id}")
        stages.setdefault(job["stage"], round(time.monotonic() - clicked, 1))
        if job["status"] != "running":
            break
        if time.monotonic() - clicked > JOB_LIMIT_SECONDS:
            raise SystemExit(f"job {job_id} still running after {JOB_LIMIT_SECONDS} s")
        time.sleep(POLL_SECONDS)
    ended = round(time.monotonic() - clicked, 1)
    if job["status"] != "live":
        raise SystemExit(f"job {job_id} ended {job['status']}: {job.get('error') or ''}")
    while not answers(stack.ask(text), patterns):
        if time.monotonic() - clicked > ended + SWAP_LIMIT_SECONDS:
            raise SystemExit("the bot did not answer with the new model")
        time.sleep(POLL_SECONDS)
    return {
        "job": job_id,
        "stages_started_after_seconds": stages,
        "job_ended_after_seconds": ended,
        "click_to_live_seconds": round(time.monotonic() - clicked, 1),
    }


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, run once, print and save the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bot", default="http://localhost:5005")
    parser.add_argument("--console", default="http://localhost:5006")
    parser.add_argument("--user", required=True, help="a reviewer's name; password on stdin")
    parser.add_argument("--out", type=Path, default=ROOT / "var/results/bench/retrain.json")
    args = parser.parse_args(argv)
    password = getpass.getpass() if sys.stdin.isatty() else sys.stdin.readline().rstrip("\n")
    stack = Stack(args.bot, args.console, args.user, password)
    text, faq, patterns = misunderstood(stack)
    print(f"annotating {text!r} -> {faq}")
    annotate(stack, text, faq)
    figures = {"text": text, "faq": faq, **click_to_live(stack, text, patterns)}
    print(json.dumps(figures, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
