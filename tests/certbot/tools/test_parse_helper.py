import contextlib
import os
import signal
import time

from certbot.tools.clinc import EVALUATION_FILE, evaluation_queries, load
from certbot.tools.evaluate import load_agent, load_held_out, parse_all
from certbot.tools.parse_helper import CHUNK, ParseHelper, parse_shared
from tests.servers import MODEL

TEXTS = [text for text, _ in load_held_out()][: 2 * CHUNK]
TEXTS += [text for text, _ in evaluation_queries(load(EVALUATION_FILE))][: 2 * CHUNK - 10]


def summary(parse):
    """What the evaluation scores of a parse."""
    faq = parse.get("response_selector", {}).get("faq", {}).get("response", {})
    return parse["text"], parse["intent"]["name"], faq.get("intent_response_key")


def test_the_helper_and_this_process_share_the_chunks_and_give_every_parse_in_order():
    agent = load_agent(MODEL)
    alone = parse_all(agent, TEXTS)
    here = []

    def slowly(chunk):
        here.append(len(chunk))
        time.sleep(3)  # leaves the helper time to take chunks from the front
        return parse_all(agent, chunk)

    with ParseHelper(None) as helper:
        assert helper.ready.result(timeout=120)
        shared = parse_shared(helper, MODEL, TEXTS, slowly)
    assert [summary(p) for p in shared] == [summary(p) for p in alone]
    chunks = -(-len(TEXTS) // CHUNK)
    assert 1 <= len(here) < chunks  # both processes parsed some


def kill(helper):
    for pid in list(helper._pool._processes):
        with contextlib.suppress(ProcessLookupError):  # killed by an earlier call already
            os.kill(pid, signal.SIGKILL)


def test_when_the_helper_dies_while_parsing_its_chunks_are_parsed_here():
    agent = load_agent(MODEL)
    alone = [summary(p) for p in parse_all(agent, TEXTS)]

    def killing(chunk):
        kill(helper)  # the helper is parsing the first chunks meanwhile
        return parse_all(agent, chunk)

    with ParseHelper(None) as helper:
        assert helper.ready.result(timeout=120)
        assert [summary(p) for p in parse_shared(helper, MODEL, TEXTS, killing)] == alone


def test_a_helper_already_dead_leaves_every_text_to_this_process():
    agent = load_agent(MODEL)
    with ParseHelper(None) as helper:
        assert helper.ready.result(timeout=120)
        kill(helper)
        deadline = time.monotonic() + 30
        while not helper._pool._broken and time.monotonic() < deadline:
            time.sleep(0.1)
        assert helper._pool._broken
        shared = parse_shared(helper, MODEL, TEXTS, lambda chunk: parse_all(agent, chunk))
    assert [summary(p) for p in shared] == [summary(p) for p in parse_all(agent, TEXTS)]
