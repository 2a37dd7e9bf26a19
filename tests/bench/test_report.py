import json

from bench.report import LOADS, check, report, table, write_json

OURS = {"throughput": 30.0, "p99_ms": 250.0, "errors": 0, "lost": 0, "ready_seconds": 25.0,
        "rss_peak_mb": 900, "messages": 10, "answered": 10, "p50_ms": 1.0, "p95_ms": 2.0,
        "max_ms": 3.0, "cpu_ms_per_message": 9.0, "repeated_text_pct": 40.0}  # fmt: skip
PEER = {**OURS, "throughput": 12.0, "p99_ms": 900.0}


def verdicts(results):
    return {r["target"]: r["result"] for r in results}


def test_each_target_passes_or_fails_on_our_figures():
    results = verdicts(check(OURS, PEER, visitors=20))
    assert results["throughput (msg/s)"] == "PASS"  # 30 >= 2 x 12
    assert results["p99 latency"] == "PASS"
    assert results["ready after start"] == "FAIL"
    assert results["RSS peak, bot + actions"] == "PASS"
    slower = verdicts(check({**OURS, "throughput": 23.0, "p99_ms": 301.0}, PEER, 20))
    assert (slower["throughput (msg/s)"], slower["p99 latency"]) == ("FAIL", "FAIL")
    assert verdicts(check({**OURS, "rss_peak_mb": 1201}, PEER, 20))["RSS peak, bot + actions"] == (
        "FAIL"
    )


def test_without_a_peer_or_at_another_concurrency_there_is_no_verdict():
    results = verdicts(check(OURS, None, visitors=5))
    assert results["throughput (msg/s)"] == "n/a"
    assert results["p99 latency"] == "n/a"
    assert results["errors (non-200, timeouts)"] == "PASS"


def test_table_shows_both_bots_and_the_targets():
    text = table(OURS, PEER, 20)
    row = next(line for line in text.splitlines() if line.startswith("p99 latency"))
    assert row.split() == ["p99", "latency", "250", "ms", "900", "ms", "<=", "300", "ms", "PASS"]
    assert "peer (rasa init)" in text.splitlines()[0]
    row = next(line for line in text.splitlines() if line.startswith("messages repeating"))
    assert row.split()[-2:] == ["40%", "40%"]


def test_report_leads_with_every_text_new_and_judges_only_it():
    new = {"ours": {**OURS, "repeated_text_pct": 0.0}, "peer": {**PEER, "repeated_text_pct": 0.0}}
    text = report({"repeated": {"ours": OURS, "peer": PEER}, "new": new}, 20)
    headline, repeated = text.split("\n\n")
    assert headline.startswith(LOADS["new"]) and repeated.startswith(LOADS["repeated"])
    assert "parse cache's best case" in repeated and "not judged" in repeated
    assert "PASS" in headline and "PASS" not in repeated and "FAIL" not in repeated

    def share(section):
        row = next(line for line in section.splitlines() if line.startswith("messages repeating"))
        return row.split()[-2:]

    assert share(headline) == ["0%", "0%"] and share(repeated) == ["40%", "40%"]


def test_report_of_one_load_or_one_bot():
    text = report({"repeated": {"ours": OURS}}, 20)
    assert text.startswith(LOADS["repeated"]) and "\n\n" not in text
    assert report({"new": {"peer": PEER}}, 20).count("n/a") == 6


def test_json_record_is_written(tmp_path):
    path = write_json({"ours": OURS}, tmp_path / "bench", "label")
    assert path.name.startswith("label-")
    assert json.loads(path.read_text()) == {"ours": OURS}
