"""Server processes started for the benchmark, and the memory of their process trees."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024
TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


class Service:
    """A server process (with any workers it forks), logging to a file."""

    def __init__(
        self, name: str, args: list[str], cwd: Path, env: dict[str, str], log: Path
    ) -> None:
        """Describe the process; `start` launches it."""
        self.name, self.args, self.cwd, self.env, self.log = name, args, cwd, env, log
        self.process: subprocess.Popen | None = None
        self.started_at = 0.0

    def start(self) -> None:
        """Launch it in its own process group (so workers stop with it)."""
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("wb") as log:
            self.started_at = time.monotonic()
            self.process = subprocess.Popen(
                self.args,
                cwd=self.cwd,
                env={**os.environ, **self.env},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def alive(self) -> bool:
        """True while the process runs."""
        return self.process is not None and self.process.poll() is None

    def rss_kb(self) -> int:
        """Resident memory of the process and its descendants, in KiB."""
        if not self.alive():
            return 0
        assert self.process is not None  # alive() is True only once started
        return sum(rss_kb(pid) for pid in process_tree(self.process.pid))

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by the process and its descendants."""
        if not self.alive():
            return 0.0
        assert self.process is not None  # alive() is True only once started
        return sum(cpu_seconds(pid) for pid in process_tree(self.process.pid))

    def stop(self) -> None:
        """SIGTERM the process group, SIGKILL it after 30 s."""
        if not self.alive():
            return
        assert self.process is not None  # alive() is True only once started
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def process_tree(root: int) -> list[int]:
    """`root` and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # Fields after the parenthesised command: state, ppid, ...
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    tree, pending = [], [root]
    while pending:
        pid = pending.pop()
        tree.append(pid)
        pending.extend(children.get(pid, []))
    return tree


def rss_kb(pid: int) -> int:
    """Resident set size of one process in KiB (0 if it has gone)."""
    try:
        fields = Path(f"/proc/{pid}/statm").read_text().split()
    except OSError:
        return 0
    return int(fields[1]) * PAGE_KB


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process in seconds (0 if it has gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS_PER_SECOND
