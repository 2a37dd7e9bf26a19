"""scripts/supervise.sh with real processes: a server that dies is named and restarted, one
that cannot start is given up and stops the rest, TERM stops everything, logs rotate.

Each test runs a small script that sources supervise.sh as scripts/run.sh does, with
Python's http.server as the servers (the supervisor treats every command alike).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from certbot.launch import free_port
from tests.servers import ROOT

# Starts and kills real processes.
pytestmark = pytest.mark.integration

SUPERVISE = ROOT / "scripts" / "supervise.sh"


def stack(tmp_path: Path, port: int, second: str, **env: str) -> subprocess.Popen:
    """A script keeping `web` (http.server on `port`) and `second`, then waiting as run.sh."""
    script = tmp_path / "stack.sh"
    script.write_text(
        "set -euo pipefail\n"
        f"source {SUPERVISE}\n"
        f"keep web {tmp_path}/log/web.log {sys.executable} -m http.server {port}"
        " --bind 127.0.0.1\n"
        f"keep second {tmp_path}/log/second.log {second}\n"
        f"wait_for http://127.0.0.1:{port}/\n"
        "echo READY >&2\n"
        'wait -n "${pids[@]}"\n'
    )
    return subprocess.Popen(
        ["bash", str(script)],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **env},
        start_new_session=True,
        # As from a terminal, even when the tests themselves run in the background.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def read_until(process: subprocess.Popen, marker: str, timeout: float = 30) -> list[str]:
    """The supervisor's stderr lines up to the first one containing `marker`."""
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line:
            break
        lines.append(line)
        if marker in line:
            return lines
    pytest.fail(f"no {marker!r} in {lines}")


def pids_of(pattern: str) -> list[int]:
    """Processes whose command line contains `pattern`."""
    found = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True)
    return [int(pid) for pid in found.stdout.split()]


def test_a_server_that_dies_is_named_and_restarted(tmp_path):
    port = free_port()
    process = stack(tmp_path, port, f"{sys.executable} -m http.server {free_port()}")
    try:
        read_until(process, "READY")
        [first] = pids_of(f"http.server {port}")
        os.kill(first, signal.SIGKILL)
        line = read_until(process, "web stopped")[-1]
        assert "exit status 137" in line and "restarting it" in line
        assert f"{tmp_path}/log/web.log" in line
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                assert requests.get(f"http://127.0.0.1:{port}/", timeout=2).status_code == 200
                break
            except requests.ConnectionError:
                time.sleep(0.2)
        else:
            pytest.fail("the killed server did not come back")
        assert pids_of(f"http.server {port}") not in ([], [first])
        assert process.poll() is None
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def test_a_server_that_cannot_start_is_given_up_and_stops_the_rest(tmp_path):
    port = free_port()
    failing = f"{sys.executable} -c 'import sys; print(\"port taken\"); sys.exit(3)'"
    process = stack(tmp_path, port, failing)
    output = "".join(read_until(process, "giving up"))
    assert output.count("second stopped (exit status 3): restarting it") == 2
    assert "3 times in a row: giving up, see" in output
    assert "port taken" in process.stderr.read()
    assert process.wait(timeout=30) != 0
    assert pids_of(f"http.server {port}") == []


@pytest.mark.parametrize("ctrl_c", [False, True], ids=["TERM to the script", "Ctrl-C"])
def test_stopping_stops_every_server_within_seconds(tmp_path, ctrl_c):
    port = free_port()
    process = stack(tmp_path, port, "sleep 1000", LOG_CHECK_SECONDS="600")
    read_until(process, "READY")
    started = time.monotonic()
    if ctrl_c:  # the terminal sends SIGINT to the whole foreground process group
        os.killpg(process.pid, signal.SIGINT)
    else:
        process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)
    assert time.monotonic() - started < 10
    assert pids_of(f"http.server {port}") == []
    assert pids_of(f"{tmp_path}/") == []


def test_a_log_past_its_limit_is_rotated_while_the_server_runs(tmp_path):
    port = free_port()
    loop = 'import time\nwhile True: print("x" * 99, flush=True); time.sleep(0.01)'
    chatty = f"{sys.executable} -c '{loop}'"
    process = stack(tmp_path, port, chatty, LOG_MAX_BYTES="20000", LOG_CHECK_SECONDS="1")
    try:
        read_until(process, "READY")
        log = tmp_path / "log" / "second.log"
        first, second = log.with_name("second.log.1"), log.with_name("second.log.2")

        def rotated_twice() -> bool:
            # Read between a rotation's moves and its copy, LOG.1 is briefly missing or short.
            try:
                return second.exists() and first.stat().st_size > 20000
            except FileNotFoundError:
                return False

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not rotated_twice():
            time.sleep(0.2)
        assert rotated_twice()
        assert log.stat().st_size < 20000 * 3
        assert process.poll() is None
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
