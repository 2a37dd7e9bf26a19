import os
import sys
import time

from bench.servers import Service, process_tree, rss_kb

# The parent spends 0.3 s of CPU, so that the kernel's tick-sampled CPU time has some to
# show (a process that only starts and sleeps may show none: seen in a clean-clone run).
PARENT_AND_CHILD = (
    "import subprocess, sys, time; "
    "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
    "start = time.process_time()\n"
    "while time.process_time() - start < 0.3: pass\n"
    "time.sleep(60)"
)


def test_rss_of_a_process_tree_and_stop(tmp_path):
    service = Service("sleepers", [sys.executable, "-c", PARENT_AND_CHILD], tmp_path, {},
                      tmp_path / "log")  # fmt: skip
    service.start()
    try:
        # Until both processes have started and their memory has settled (a child still
        # importing grows between two reads: seen once in a clean-clone run under load).
        # The figures compared are the ones read together, never read again after.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            tree = process_tree(service.process.pid)
            total, parts = service.rss_kb(), [rss_kb(pid) for pid in tree]
            if len(tree) == 2 and total == sum(parts):
                break
            time.sleep(0.05)
        assert len(tree) == 2
        assert total == sum(parts)
        assert total > parts[tree.index(service.process.pid)] > 1000
        while service.cpu_seconds() < 0.2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert service.cpu_seconds() >= 0.2
    finally:
        service.stop()
    assert not service.alive()
    assert service.rss_kb() == 0
    deadline = time.monotonic() + 10
    while not all(gone(pid) for pid in tree) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert all(gone(pid) for pid in tree)


def gone(pid):
    return not os.path.exists(f"/proc/{pid}") or zombie(pid)


def zombie(pid):
    try:
        return open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def test_rss_of_a_process_that_has_gone():
    assert rss_kb(2**22 + 1) == 0
