"""`python -m bench` (`make bench`): our bot and a day-one Rasa bot under the same loads.

Each bot in turn is started, timed to its first reply, loaded with concurrent visitors
and stopped (never two bots at once): first the every-text-new load (the headline: no
text repeats one sent before in the run, to either bot), then the repeated-text load
(the parse cache's best case), each after its own warm-up. Then both bots are printed
side by side, the headline against the targets. Settings that Rasa reads from the
environment (TF_INTRA_OP_PARALLELISM_THREADS, LOG_LEVEL, ...) pass through to the
servers, so a lever is measured with e.g. `LOG_LEVEL=WARNING python -m bench --only ours`.
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
from bench.messages import SentTexts
from bench.report import LOADS, report, write_json
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
    "PARSE_AHEAD",
    "MAX_CONCURRENT_MESSAGES",
)


async def sample_peak_rss_kb(
    services: list[Service], stop: asyncio.Event, peaks: dict[str, int]
) -> None:
    """Keep in `peaks` the peak RSS of the process trees (each and "total") until `stop`."""
    while not stop.is_set():
        sizes = {service.name: service.rss_kb() for service in services}
        for name, size in [*sizes.items(), ("total", sum(sizes.values()))]:
            peaks[name] = max(peaks.get(name, 0), size)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), SAMPLE_SECONDS)


async def load_figures(
    bot: BotUnderTest, load: str, visitors: int, seconds: float, warmup: float
) -> dict[str, Any]:
    """Warm the running bot up and measure one load: its summary and CPU per message."""
    conversations = bot.loads[load]
    if warmup:
        await run_load(bot.endpoint, conversations, visitors, warmup, f"{bot.name}-{load}-warm")
    cpu_before = sum(service.cpu_seconds() for service in bot.services)
    result = await run_load(bot.endpoint, conversations, visitors, seconds, f"{bot.name}-{load}")
    cpu = sum(service.cpu_seconds() for service in bot.services) - cpu_before
    figures = result.summary()
    figures["cpu_ms_per_message"] = round(cpu * 1000 / max(1, figures["messages"]), 1)
    figures["rss_after_load_mb"] = round(sum(s.rss_kb() for s in bot.services) / 1024)
    print(f"[{bot.name}] {load}: {figures['throughput']} msg/s, p99 {figures['p99_ms']} ms, "
          f"{figures['repeated_text_pct']}% repeated texts", flush=True)  # fmt: skip
    return figures


async def measure(
    bot: BotUnderTest, loads: list[str], visitors: int, seconds: float, warmup: float
) -> dict[str, dict[str, Any]]:
    """Start the bot, time its first reply, measure each load in turn; stop it.

    The figures by load; the RSS peak of each is the peak from launch to that load's end.
    """
    print(f"[{bot.name}] starting {', '.join(s.name for s in bot.services)}", flush=True)
    for service in bot.services:
        service.start()
    started = min(service.started_at for service in bot.services)
    stop, peaks = asyncio.Event(), {"total": 0}
    sampler = asyncio.create_task(sample_peak_rss_kb(bot.services, stop, peaks))
    figures: dict[str, dict[str, Any]] = {}
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
        print(f"[{bot.name}] ready after {ready:.1f} s; loads of {seconds:g} s", flush=True)
        for load in loads:
            figures[load] = {
                **await load_figures(bot, load, visitors, seconds, warmup),
                "ready_seconds": round(ready, 1),
                "rss_peak_mb": round(peaks["total"] / 1024),
                "rss_peak_mb_by_service": {
                    name: round(kb / 1024) for name, kb in peaks.items() if name != "total"
                },
                "settings": bot.settings,
            }
    finally:
        stop.set()
        for service in bot.services:
            service.stop()
        await sampler
    return figures


def stop_on_signal(number: int, frame: object) -> None:
    """SIGTERM: unwind like Ctrl-C, so that the servers are stopped."""
    raise KeyboardInterrupt


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--visitors", type=int, default=20, help="concurrent visitors")
    parser.add_argument("--seconds", type=float, default=60, help="measured seconds of each load")
    parser.add_argument("--warmup", type=float, default=5, help="unmeasured load first")
    parser.add_argument("--only", choices=("ours", "peer"), help="measure one bot")
    parser.add_argument("--load", choices=tuple(LOADS), help="measure one load (default: all)")
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
    loads = [args.load] if args.load else list(LOADS)
    sent = SentTexts([READY_TEXT])  # shared by both bots' every-text-new visitors
    bots = []
    if args.only != "peer":
        bots.append(our_bot(workdir, args.model, sent, args.bot_workers, args.action_workers))
    if args.only != "ours":
        bots.append(peer_bot(workdir, sent))
    figures: dict[str, dict[str, Any]] = {load: {} for load in loads}
    for bot in bots:
        by_load = asyncio.run(measure(bot, loads, args.visitors, args.seconds, args.warmup))
        for load, bot_figures in by_load.items():
            figures[load][bot.name] = bot_figures
    print()
    print(f"{args.visitors} concurrent visitors, {args.seconds:g} s per load and bot after "
          f"{args.warmup:g} s of warm-up, no think time; {os.cpu_count()} CPUs, "
          f"load average before {load_before[0]:.2f}")  # fmt: skip
    print(report(figures, args.visitors))
    if args.only != "peer":
        print("ours: " + "; ".join(f"{k}: {v}" for k, v in bots[0].settings.items()))
    record = {
        "visitors": args.visitors,
        "seconds": args.seconds,
        "warmup_seconds": args.warmup,
        "cpus": os.cpu_count(),
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "environment": {name: os.environ[name] for name in PASSED_ENV if name in os.environ},
        "loads": figures,
    }
    print(f"Saved {write_json(record, args.out, args.label)}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        sys.exit("interrupted: the servers were stopped")
