"""Hypothesis strategies for hostile input, shared by the fuzz tests."""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# No example database: nothing written into the checkout; a failure prints its example.
FUZZ = settings(
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
ODD_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"]), max_size=300
) | st.sampled_from(
    ["", " ", "\x00", "\u202e\u0000\ufeff", "/restart", "/session_start", '/feedback{"rating"',
     "/feedback{\"rating\": \"up\"}", "{{ 7*7 }}", "<script>alert(1)</script>", "x" * 2001,
     "💥" * 1000, "\U0010ffff", "' or 1=1 --", "/nlu_fallback", "/affirm", "/inform{\"x\":",
     "../../etc/passwd", "%00", "1e999", "-1", "9" * 30, "yes", "faq", "2024-02-30"]
)  # fmt: skip
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | ODD_TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(ODD_TEXT, inner, max_size=4),
    max_leaves=12,
)
HEADER_TEXT = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=80).map(
    str.strip
)
