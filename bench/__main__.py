"""`python -m bench` (`make bench`): our bot and a day-one Rasa bot under the same load.

Each bot in turn is started, timed to its first reply, loaded with concurrent visitors
and stopped (never two bots at once); then both are printed side by side against the
targets. Settings that Rasa reads from the environment (TF_INTRA_OP_PARALLELISM_THREADS,
LOG_LEVEL, ...) pass through to the servers, so a lever is measured with e.g.
`LOG_LEVEL=WARNING python -m bench --only ours`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from bench.bots import ROOT, BotUnderTest, our_bot, peer_bot
from bench.load import first_reply, run_load
from bench.report import table, write_json
from bench.servers import Service

READY_TEXT = "hello"
STARTUP_LIMIT_SECONDS = 240
SAMPLE_SECONDS = 0.25
PASSED_ENV = (
    "TF_INTRA_OP_PARALLELISM_THREADS",
    "TF_INTER_OP_PARALLELISM_THREADS",
    "OMP_NUM_THREADS",
    "MALLOC_ARENA_MAX",
    "LOG_LEVEL",
)


async def peak_rss_kb(services: list[Service], stop: asyncio.Event) -> dict[str, int]:
    """Peak RSS of the services' process trees, sampled until `stop`: each and "total"."""
    peaks = {"total": 0}
    while not stop.is_set():
        sizes = {service.name: service.rss_kb() for service in services}
        for name, size in [*sizes.items(), ("total", sum(sizes.values()))]:
            peaks[name] = max(peaks.get(name, 0), size)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), SAMPLE_SECONDS)
    return peaks


async def measure(bot: BotUnderTest, visitors: int, seconds: float, warmup: float) -> dict:
    """Start the bot, time its first reply, warm it up, load it; stop it."""
    print(f"[{bot.name}] starting {', '.join(s.name for s in bot.services)}", flush=True)
    for service in bot.services:
        service.start()
    started = min(service.started_at for service in bot.services)
    stop = asyncio.Event()
    sampler = asyncio.create_task(peak_rss_kb(bot.services, stop))
    try:
        try:
            await first_reply(
                bot.endpoint,
                READY_TEXT,
                lambda: all(service.alive() for service in bot.services),
                STARTUP_LIMIT_SECONDS,
            )
        except (RuntimeError, TimeoutError) as error:
            logs = ", ".join(str(service.log) for service in bot.services)
            raise SystemExit(f"[{bot.name}] {error}; see {logs}") from error
        ready = time.monotonic() - started
        print(f"[{bot.name}] ready after {ready:.1f} s; load for {seconds:g} s", flush=True)
        if warmup:
            await run_load(bot.endpoint, bot.conversations, visitors, warmup, f"{bot.name}-warm")
        cpu_before = sum(service.cpu_seconds() for service in bot.services)
        result = await run_load(bot.endpoint, bot.conversations, visitors, seconds, bot.name)
        cpu = sum(service.cpu_seconds() for service in bot.services) - cpu_before
        rss_after = sum(service.rss_kb() for service in bot.services)
    finally:
        stop.set()
        for service in bot.services:
            service.stop()
        peaks = await sampler
    figures = result.summary()
    figures["cpu_ms_per_message"] = round(cpu * 1000 / max(1, figures["messages"]), 1)
    print(f"[{bot.name}] {figures['throughput']} msg/s, p99 {figures['p99_ms']} ms", flush=True)
    return {
        **figures,
        "ready_seconds": round(ready, 1),
        "rss_peak_mb": round(peaks.pop("total") / 1024),
        "rss_peak_mb_by_service": {name: round(kb / 1024) for name, kb in peaks.items()},
        "rss_after_load_mb": round(rss_after / 1024),
        "settings": bot.settings,
    }


def stop_on_signal(number: int, frame: object) -> None:
    """SIGTERM: unwind like Ctrl-C, so that the servers are stopped."""
    raise KeyboardInterrupt


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--visitors", type=int, default=20, help="concurrent visitors")
    parser.add_argument("--seconds", type=float, default=60, help="measured load per bot")
    parser.add_argument("--warmup", type=float, default=5, help="unmeasured load first")
    parser.add_argument("--only", choices=("ours", "peer"), help="measure one bot")
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "certbot.tar.gz")
    parser.add_argument("--bot-workers", type=int, default=1, help="Sanic workers (Redis lock)")
    parser.add_argument("--action-workers", type=int, default=1, help="action server workers")
    parser.add_argument("--label", default="bench", help="name of the JSON record")
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "results" / "bench")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    """Run the benchmark; exit status 0 (a benchmark reports, it does not gate)."""
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, stop_on_signal)
    workdir = ROOT / "var" / "bench" / "run"
    load_before = os.getloadavg()
    figures: dict[str, Any] = {}
    if args.only != "peer":
        bot = our_bot(workdir, args.model, args.bot_workers, args.action_workers)
        figures["ours"] = asyncio.run(measure(bot, args.visitors, args.seconds, args.warmup))
    if args.only != "ours":
        bot = peer_bot(workdir)
        figures["peer"] = asyncio.run(measure(bot, args.visitors, args.seconds, args.warmup))
    ours, peer = figures.get("ours"), figures.get("peer")
    print()
    print(f"{args.visitors} concurrent visitors, {args.seconds:g} s each, no think time; "
          f"{os.cpu_count()} CPUs, load average before {load_before[0]:.2f}")  # fmt: skip
    print(table(ours, peer, args.visitors))
    if ours:
        print("ours: " + "; ".join(f"{k}: {v}" for k, v in ours["settings"].items()))
    record = {
        "visitors": args.visitors,
        "seconds": args.seconds,
        "warmup_seconds": args.warmup,
        "cpus": os.cpu_count(),
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "environment": {name: os.environ[name] for name in PASSED_ENV if name in os.environ},
        **figures,
    }
    print(f"Saved {write_json(record, args.out, args.label).relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        sys.exit("interrupted: the servers were stopped")
