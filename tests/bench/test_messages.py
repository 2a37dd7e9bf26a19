import random
from collections import Counter

import pytest

from bench.messages import (
    CERTIFICATION_PLANS,
    MOOD_PLANS,
    SentTexts,
    certification_visitors,
    mood_visitors,
    typo,
)
from certbot.tools.evaluate import load_held_out
from certbot.tools.real_questions import REAL_QUESTIONS_DIR, SETS, load_set


def conversations(seed, count, sent=None):
    """`count` conversations of ours and the peer's (4:1) sharing one SentTexts."""
    sent = SentTexts(["hello"]) if sent is None else sent
    ours, peer = certification_visitors(sent), mood_visitors(sent)
    rng = random.Random(seed)
    return [(ours if i % 5 else peer).conversation(rng) for i in range(count)]


def texts_of(drawn):
    return [text for _, turns in drawn for _, text in turns]


def test_no_text_repeats_in_100000_messages_of_both_bots():
    sent = SentTexts(["hello"])
    drawn = conversations(seed=3, count=30_000, sent=sent)
    texts = texts_of(drawn)
    assert len(texts) >= 100_000
    keys = [SentTexts.key(text) for text in texts]
    assert len(set(keys)) == len(keys)
    assert "hello" not in keys  # the readiness probe counts as sent
    assert len(sent) == len(texts) + 1


def test_the_same_seed_gives_the_same_messages():
    assert conversations(seed=7, count=500) == conversations(seed=7, count=500)
    assert conversations(seed=7, count=500) != conversations(seed=8, count=500)


def test_visits_follow_the_plans_in_their_shares():
    drawn = conversations(seed=5, count=20_000)
    ours = Counter(plan for i, (plan, _) in enumerate(drawn) if i % 5)
    peer = Counter(plan for i, (plan, _) in enumerate(drawn) if not i % 5)
    for plans, counts in ((CERTIFICATION_PLANS, ours), (MOOD_PLANS, peer)):
        total = sum(counts.values())
        for plan in plans:
            assert abs(counts[plan.name] / total - plan.weight) < 0.03, plan.name
    by_plan = {plan.name: plan.turns for plan in (*CERTIFICATION_PLANS, *MOOD_PLANS)}
    assert all(tuple(kind for kind, _ in turns) == by_plan[plan] for plan, turns in drawn)


def test_each_kind_is_phrased_many_ways():
    drawn = conversations(seed=11, count=20_000)
    by_kind: dict[str, list[str]] = {}
    for _, turns in drawn:
        for kind, text in turns:
            by_kind.setdefault(kind, []).append(text)
    for kind, texts in by_kind.items():
        openings = {" ".join(SentTexts.key(text).split()[:2]) for text in texts}
        assert len(openings) >= 5, kind
    faq = by_kind["faq"]
    assert len({" ".join(SentTexts.key(text).split()[:3]) for text in faq}) > 300
    assert sum(text == text.lower() for text in faq) > len(faq) / 10  # some all lower case
    assert any("27001" in text for text in faq) and any("45001" in text for text in faq)
    assert all("@" in text for text in by_kind["contact_email"])


def test_no_message_is_a_test_set_text():
    held_out = [text for text, _ in load_held_out()]
    real = [q.text for name in SETS for q in load_set(REAL_QUESTIONS_DIR / f"{name}.yml")]
    assert held_out and real
    forbidden = {SentTexts.key(text) for text in held_out + real}
    assert not [t for t in texts_of(conversations(2, 20_000)) if SentTexts.key(t) in forbidden]


def test_texts_alike_but_for_case_and_punctuation_count_as_the_same():
    sent = SentTexts(["Hello!"])
    assert SentTexts.key("  hello ") == SentTexts.key("Hello!") == "hello"
    with pytest.raises(RuntimeError, match="no new text"):
        sent.claim(lambda rng: "HELLO?", random.Random(1))
    assert sent.claim(lambda rng: "hi", random.Random(1)) == "hi"
    assert len(sent) == 2


def test_a_typo_changes_one_long_word():
    rng = random.Random(4)
    text = "is certification mandatory in Kenya"
    for _ in range(50):
        changed = typo(rng, text)
        differing = [a != b for a, b in zip(changed.split(), text.split(), strict=True)]
        assert sum(differing) <= 1
        assert changed.split()[0] == "is"  # too short to change
    assert typo(rng, "is it") == "is it"
