"""The targets, the side-by-side table and the JSON record of a benchmark run."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TARGET_VISITORS = 20
# The loads in the order they run and are reported: the first is the headline.
LOADS = {
    "new": "EVERY TEXT NEW (the headline): no message repeats a text sent before in the "
    "run, to either bot, so the parse cache cannot help",
    "repeated": "REPEATED TEXTS: the parse cache's best case (FAQ visits and off-topic "
    "questions drawn from the held-out phrasings; the peer's from its own data)",
}


@dataclass(frozen=True)
class Target:
    """One target of the issue, checked on our figures (and the peer's for throughput)."""

    metric: str
    label: str
    unit: str
    limit: float
    kind: str  # "max": ours <= limit; "peer_ratio": ours >= limit x peer

    def text(self) -> str:
        """How the target reads in the table."""
        if self.kind == "peer_ratio":
            return f">= {self.limit:g}x peer"
        return f"<= {self.limit:g}{self.unit}"

    def met(self, ours: dict[str, Any], peer: dict[str, Any] | None) -> bool | None:
        """True/False, or None when the run has no figure to compare with."""
        if self.kind == "peer_ratio":
            if peer is None or not peer.get(self.metric):
                return None
            return ours[self.metric] >= self.limit * peer[self.metric]
        return ours[self.metric] <= self.limit


TARGETS = (
    Target("throughput", "throughput (msg/s)", "", 2, "peer_ratio"),
    Target("p99_ms", "p99 latency", " ms", 300, "max"),
    Target("errors", "errors (non-200, timeouts)", "", 0, "max"),
    Target("lost", "lost (no reply)", "", 0, "max"),
    Target("ready_seconds", "ready after start", " s", 20, "max"),
    Target("rss_peak_mb", "RSS peak, bot + actions", " MB", 1200, "max"),
)
ROWS = (
    ("messages", "messages answered/sent", ""),
    ("p50_ms", "p50 latency", " ms"),
    ("p95_ms", "p95 latency", " ms"),
    ("max_ms", "max latency", " ms"),
    ("cpu_ms_per_message", "CPU per message (servers)", " ms"),
    ("repeated_text_pct", "messages repeating a text", "%"),
)


def cell(figures: dict[str, Any] | None, metric: str, unit: str) -> str:
    """One figure as shown in the table."""
    if figures is None:
        return "-"
    if metric == "messages":
        return f"{figures['answered']}/{figures['messages']}"
    return f"{figures[metric]:g}{unit}"


def check(ours: dict[str, Any], peer: dict[str, Any] | None, visitors: int) -> list[dict]:
    """Every target with our figure and PASS / FAIL / n/a."""
    results = []
    for target in TARGETS:
        met = target.met(ours, peer)
        if target.metric == "p99_ms" and visitors != TARGET_VISITORS:
            met = None  # the latency target is set at 20 concurrent visitors
        verdict = {True: "PASS", False: "FAIL", None: "n/a"}[met]
        results.append({"target": target.label, "limit": target.text(), "result": verdict})
    return results


def table(
    ours: dict[str, Any] | None, peer: dict[str, Any] | None, visitors: int, judged: bool = True
) -> str:
    """A plain-text table: figure, ours, peer, target, result (n/a unless `judged`)."""
    verdicts = (
        {t.metric: r for t, r in zip(TARGETS, check(ours, peer, visitors), strict=True)}
        if ours and judged
        else {}
    )
    lines = [("", "ours", "peer (rasa init)", "target", "result")]
    for target in TARGETS:
        verdict = verdicts.get(target.metric, {"limit": target.text(), "result": "n/a"})
        unit = "" if target.metric == "throughput" else target.unit
        lines.append(
            (target.label, cell(ours, target.metric, unit), cell(peer, target.metric, unit),
             verdict["limit"], verdict["result"])
        )  # fmt: skip
    for metric, label, unit in ROWS:
        lines.append((label, cell(ours, metric, unit), cell(peer, metric, unit), "", ""))
    widths = [max(len(row[i]) for row in lines) for i in range(5)]
    rendered = [
        "  ".join(text.ljust(width) for text, width in zip(row, widths, strict=True))
        for row in lines
    ]
    rendered.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(line.rstrip() for line in rendered)


def report(loads: dict[str, dict[str, dict[str, Any]]], visitors: int) -> str:
    """Each load's title and table (`loads`: load name -> bot name -> figures).

    Only the headline, the first of LOADS, is judged against the targets.
    """
    headline, sections = next(iter(LOADS)), []
    for name, title in LOADS.items():
        if name not in loads:
            continue
        judged = name == headline
        note = "" if judged else " (not judged: the targets apply to the headline)"
        body = table(loads[name].get("ours"), loads[name].get("peer"), visitors, judged)
        sections.append(f"{title}{note}\n{body}")
    return "\n\n".join(sections)


def write_json(record: dict[str, Any], folder: Path, label: str) -> Path:
    """Save the run as folder/<label>-<UTC time>.json and return the path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{label}-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    path.write_text(json.dumps(record, indent=2) + "\n")
    return path
