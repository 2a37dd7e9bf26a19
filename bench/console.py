"""`python -m bench.console` (`make bench-console`): the staff console at many conversations.

1. Records conversations through the real bot: our bot and action server (as `make bench`
   starts them) under a few minutes' worth of the bench's every-text-new visitors (FAQ
   visits, off-topic questions, contact requests), into a SQLite tracker store.
2. Replicates them into a tracker store of N conversations (SQLite, or PostgreSQL with
   `--postgres`): each copy gets a new id and is moved in time so that the N
   conversations spread over the last 90 days, in the order they would have happened.
3. For each size (default 1k, 10k, 100k, filled cumulatively) starts the console on that
   store with a fresh console database, signs in, and measures: the time until `/health`
   answers after the start (ready), each endpoint's first call (cold) and the p95 of
   `--warm` further calls (warm), how long a `/health` request waited while the cold list
   call ran, the full JSONL export (time, bytes), and the console's RSS (peak and after).

Figures go to stdout and `var/results/bench-console/`. A benchmark, not a test: the
targets (issue 16) are read from its output.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests
import sqlalchemy as sa
import yaml

from bench.bots import ROOT, our_bot
from bench.console_client import ConsoleClient
from bench.load import first_reply, run_load
from bench.messages import SentTexts
from bench.servers import Service
from certbot.launch import free_port

MODEL = ROOT / "models" / "certbot.tar.gz"
RESULTS = ROOT / "var" / "results" / "bench-console"
TRACKER_STORE = "certbot.stores.tracker_store.CachedSQLTrackerStore"
SPAN_SECONDS = 90 * 86_400
BATCH_ROWS = 20_000
USER, PASSWORD = "bench", "bench console passphrase 4711"
# Each endpoint as staff call it: (name, path).
ENDPOINTS = (
    ("list", "/api/conversations"),
    ("list, page 20", "/api/conversations?page=20"),
    ("filter: fell back", "/api/conversations?fell_back=true"),
    ("filter: last 7 days", "/api/conversations?from={week_ago}"),
    ("search: text", "/api/conversations?q=certificate"),
    ("inbox", "/api/inbox"),
    ("dashboard", "/api/dashboard"),
    ("contacts", "/api/contacts"),
)
EVENT_COLUMNS = ("sender_id", "type_name", "timestamp", "intent_name", "action_name", "data")


def record(workdir: Path, model: Path, seconds: float, visitors: int) -> Path:
    """Conversations of the bench's visitors with the real bot, in a SQLite store; its path."""
    bot = our_bot(workdir, model, SentTexts())
    for service in bot.services:
        service.start()
    try:
        asyncio.run(first_reply(bot.endpoint, "hello", lambda: all(
            service.alive() for service in bot.services), 240))  # fmt: skip
        asyncio.run(run_load(bot.endpoint, bot.loads["new"], visitors, seconds, "console"))
    finally:
        for service in reversed(bot.services):
            service.stop()
    return workdir / "conversations.db"


def recorded_conversations(store: Path) -> list[list[dict[str, Any]]]:
    """The recorded store's conversations, each its event rows in order."""
    with sqlite3.connect(store) as connection:
        connection.row_factory = sqlite3.Row
        rows = connection.execute(
            f"SELECT {', '.join(EVENT_COLUMNS)} FROM events ORDER BY sender_id, id"
        ).fetchall()
    conversations: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        conversations.setdefault(row["sender_id"], []).append(dict(row))
    return sorted(conversations.values(), key=lambda events: events[0]["timestamp"])


def copies(
    templates: list[list[dict[str, Any]]], first: int, count: int, total: int, now: float
) -> Iterator[dict[str, Any]]:
    """Event rows of conversations `first` .. `first + count - 1` of `total`.

    Conversation i copies template i modulo their number, with a new id, moved in time to
    start at its place in the last 90 days (oldest first, evenly spread).
    """
    for number in range(first, first + count):
        template = templates[number % len(templates)]
        shift = now - SPAN_SECONDS + SPAN_SECONDS * number / total - template[0]["timestamp"]
        sender = f"bench-{uuid.uuid4().hex}"
        for row in template:
            data = json.loads(row["data"])
            data["timestamp"] = row["timestamp"] + shift
            yield {
                **row,
                "sender_id": sender,
                "timestamp": row["timestamp"] + shift,
                "data": json.dumps(data),
            }


def fill(engine: sa.engine.Engine, rows: Iterator[dict[str, Any]]) -> int:
    """Insert event rows into Rasa's events table (made if missing); how many."""
    from rasa.core.tracker_store import SQLTrackerStore

    table = SQLTrackerStore.SQLEvent.__table__
    table.create(engine, checkfirst=True)
    inserted = 0
    batch: list[dict[str, Any]] = []
    with engine.begin() as connection:
        for row in rows:
            batch.append(row)
            if len(batch) == BATCH_ROWS:
                connection.execute(table.insert(), batch)
                inserted, batch = inserted + len(batch), []
        if batch:
            connection.execute(table.insert(), batch)
            inserted += len(batch)
    return inserted


def store_section(url: sa.engine.URL) -> dict[str, Any]:
    """The endpoints file's tracker store section for the database at `url`."""
    if url.drivername.startswith("sqlite"):
        return {"type": TRACKER_STORE, "dialect": "sqlite", "db": url.database}
    return {
        "type": TRACKER_STORE,
        "dialect": "postgresql",
        "url": url.host,
        "port": url.port,
        "db": url.database,
        "username": url.username,
    }


class Sampler:
    """The peak RSS of a service, sampled every 0.2 s in a thread until stopped."""

    def __init__(self, service: Service) -> None:
        """Start sampling."""
        self.service, self.peak_kb, self._stop = service, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            self.peak_kb = max(self.peak_kb, self.service.rss_kb())

    def stop(self) -> int:
        """Stop sampling; the peak in KiB."""
        self._stop.set()
        self._thread.join()
        return self.peak_kb


def timed(call: Any) -> tuple[float, Any]:
    """Milliseconds a call took, and what it returned."""
    started = time.perf_counter()
    result = call()
    return (time.perf_counter() - started) * 1000, result


def health_waits(url: str, stop: threading.Event, waits: list[float]) -> None:
    """Ask `/health` back to back until `stop`, keeping how long each answer took (ms)."""
    while not stop.is_set():
        try:
            waits.append(timed(lambda: requests.get(url + "/health", timeout=600))[0])
        except requests.RequestException:
            waits.append(float("inf"))
        time.sleep(0.05)


def start_console(workdir: Path, endpoints: Path) -> tuple[Service, str, float]:
    """The console on the store of `endpoints`, a fresh database; its URL and ready time."""
    port = free_port()
    env = {
        "CONSOLE_DB_URL": f"sqlite:///{workdir / 'console.db'}",
        "ENDPOINTS": str(endpoints),
        "CONSOLE_PORT": str(port),
        "CONSOLE_SECRET": "bench-console-secret",
        "MODEL_PULL_TOKEN": "bench-console-token",
        "RETRAIN_PROJECT": str(workdir / "project"),
        "MODEL_REGISTRY": str(workdir / "registry"),
        "RASA_TELEMETRY_ENABLED": "false",
    }
    (workdir / "project").mkdir(exist_ok=True)
    (workdir / "console.db").unlink(missing_ok=True)
    subprocess.run(
        [sys.executable, "-m", "console.users", "add", USER, "--role", "admin",
         "--password-stdin"],
        input=PASSWORD + "\n", text=True, cwd=ROOT, env={**os.environ, **env}, check=True,
        capture_output=True,
    )  # fmt: skip
    service = Service(
        "console", [sys.executable, "-m", "console"], ROOT, env, workdir / "console.log"
    )
    service.start()
    url = f"http://127.0.0.1:{port}"
    while True:
        if not service.alive():
            raise SystemExit(f"the console exited: see {service.log}")
        try:
            if requests.get(url + "/health", timeout=5).status_code == 200:
                return service, url, time.monotonic() - service.started_at
        except requests.RequestException:
            time.sleep(0.1)


def measure(workdir: Path, endpoints: Path, warm: int, export: bool) -> dict[str, Any]:
    """The console's figures on the store named in `endpoints` (see the module)."""
    service, url, ready = start_console(workdir, endpoints)
    sampler = Sampler(service)
    figures: dict[str, Any] = {"ready_s": round(ready, 2), "endpoints": {}}
    try:
        client = ConsoleClient(url, USER, PASSWORD)
        week_ago = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 7 * 86_400))
        for number, (name, path) in enumerate(ENDPOINTS):
            path = path.format(week_ago=week_ago)
            stop = threading.Event()
            waits: list[float] = []
            watcher = threading.Thread(target=health_waits, args=(url, stop, waits))
            if number == 0:
                watcher.start()
            cold, response = timed(lambda p=path: client.get(p))
            stop.set()
            if number == 0:
                watcher.join()
                figures["health_wait_during_cold_list_ms"] = round(max(waits, default=0), 1)
            if response.status_code != 200:
                raise SystemExit(f"GET {path}: {response.status_code} {response.text[:200]}")
            warms = [timed(lambda p=path: client.get(p))[0] for _ in range(warm)]
            figures["endpoints"][name] = {
                "cold_ms": round(cold, 1),
                "warm_p95_ms": round(statistics.quantiles(warms, n=20)[-1], 1)
                if len(warms) > 1
                else round(warms[0], 1),
            }
        figures["rss_after_mb"] = round(service.rss_kb() / 1024)
        if export:
            took, response = timed(lambda: client.get("/export/conversations.jsonl", 3600))
            figures["export"] = {
                "seconds": round(took / 1000, 1),
                "mb": len(response.content) >> 20,
            }
        figures["rss_peak_mb"] = round(sampler.stop() / 1024)
    finally:
        sampler.stop()
        service.stop()
    return figures


def cells(figures: dict[str, Any]) -> list[tuple[str, str]]:
    """One size's figures as (label, value) rows of the printed table."""
    rows = [
        ("ready after start", f"{figures['ready_s']} s"),
        ("/health wait during cold list", f"{figures['health_wait_during_cold_list_ms']} ms"),
    ]
    for name, _ in ENDPOINTS:
        times = figures["endpoints"][name]
        rows.append(
            (f"{name} (cold / warm p95)", f"{times['cold_ms']:.0f} / {times['warm_p95_ms']:.0f} ms")
        )
    export = figures.get("export")
    rows.append(
        (
            "export (time, size)",
            f"{export['seconds']} s, {export['mb']} MB" if export else "not run",
        )
    )
    rows.append(
        ("RSS after the calls / peak", f"{figures['rss_after_mb']} / {figures['rss_peak_mb']} MB")
    )
    return rows


def table(results: dict[int, dict[str, Any]]) -> str:
    """The figures of every size side by side."""
    sizes = sorted(results)
    columns = [cells(results[size]) for size in sizes]
    header = f"{'conversations':34}" + "".join(f"{size:>22,}" for size in sizes)
    lines = [header, "-" * len(header)]
    for index, (label, _) in enumerate(columns[0]):
        lines.append(f"{label:34}" + "".join(f"{column[index][1]:>22}" for column in columns))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Record, replicate and measure (see the module)."""
    parser = argparse.ArgumentParser(prog="python -m bench.console")
    parser.add_argument("--sizes", default="1000,10000,100000", help="conversations, ascending")
    parser.add_argument("--model", type=Path, default=MODEL)
    parser.add_argument("--record-seconds", type=float, default=60)
    parser.add_argument("--record-visitors", type=int, default=4)
    parser.add_argument("--recorded", type=Path, help="a store recorded before (skips step 1)")
    parser.add_argument("--postgres", help="a PostgreSQL URL to fill instead of a SQLite file")
    parser.add_argument("--warm", type=int, default=5, help="warm calls per endpoint")
    parser.add_argument("--export-up-to", type=int, default=100_000, help="largest size exported")
    args = parser.parse_args(argv)
    sizes = sorted(int(size) for size in args.sizes.split(","))
    RESULTS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench-console-") as folder:
        workdir = Path(folder)
        recorded = args.recorded or record(
            workdir / "record", args.model, args.record_seconds, args.record_visitors
        )
        templates = recorded_conversations(recorded)
        events = sum(map(len, templates))
        print(f"recorded {len(templates)} conversations, {events / len(templates):.1f} events each")
        url = sa.engine.make_url(args.postgres or f"sqlite:///{workdir / 'store.db'}")
        engine = sa.create_engine(url)
        endpoints = workdir / "endpoints.yml"
        endpoints.write_text(yaml.safe_dump({"tracker_store": store_section(url)}))
        results: dict[int, dict[str, Any]] = {}
        filled, now = 0, time.time()
        for size in sizes:
            started = time.monotonic()
            fill(engine, copies(templates, filled, size - filled, sizes[-1], now))
            filled = size
            print(f"{size:,} conversations stored ({time.monotonic() - started:.0f} s); measuring")
            results[size] = measure(workdir, endpoints, args.warm, size <= args.export_up_to)
    print(table(results))
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    out = RESULTS / f"bench-console-{stamp}.json"
    out.write_text(json.dumps({"sizes": results, "store": url.drivername}, indent=2))
    print(f"saved {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
