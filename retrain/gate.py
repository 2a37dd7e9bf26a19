"""The evaluation gate: a candidate goes live only when it is not worse than the live model."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from certbot.tools.evaluate import gate_failures, side_by_side
from console.settings import Settings


@dataclass(frozen=True)
class Tolerances:
    """How much worse than the live model a candidate may be (fractions, 0..1)."""

    max_accuracy_drop: float = 0.02
    max_f1_drop: float = 0.1
    max_off_topic_rise: float = 0.002


def tolerances(settings: Settings) -> Tolerances:
    """The gate's tolerances from the settings."""
    return Tolerances(settings.max_accuracy_drop, settings.max_f1_drop, settings.max_off_topic_rise)


# An intent's F1 may always drop by what one and a half held-out examples of it can cost, so
# that one more miss on an intent with three test examples (F1 -0.2) is not read as a regression.
NOISE_EXAMPLES = 1.5


def allowed_f1_drop(limit: float, support: int | None) -> float:
    """The F1 drop tolerated for an intent with `support` held-out examples."""
    return max(limit, NOISE_EXAMPLES / support) if support else limit


@dataclass(frozen=True)
class Verdict:
    """The gate's decision, its reasons and the side-by-side figures (None without a live model)."""

    passed: bool
    reasons: list[str]
    comparison: dict[str, Any] | None

    def as_dict(self) -> dict[str, Any]:
        """The verdict as JSON-ready data (kept in the model's report)."""
        return {"passed": self.passed, "reasons": self.reasons, "comparison": self.comparison}


def judge(candidate: dict[str, Any], live: dict[str, Any] | None, limits: Tolerances) -> Verdict:
    """Apply the absolute gates of certbot/tools/evaluate.py, then the tolerances against `live`."""
    reasons = gate_failures(candidate)
    if live is None:
        return Verdict(not reasons, reasons, None)
    comparison = side_by_side(candidate, live)
    accuracy = comparison["accuracy"]["delta"]
    if accuracy < -limits.max_accuracy_drop:
        reasons.append(
            f"held-out accuracy drops by {-accuracy:.2%} (tolerance {limits.max_accuracy_drop:.2%})"
        )
    rise = comparison["off_topic_rate"]["delta"]
    if rise > limits.max_off_topic_rise:
        reasons.append(
            f"off-topic answer rate rises by {rise:.2%} (tolerance {limits.max_off_topic_rise:.2%})"
        )
    support = {k: v.get("support") for k, v in live["held_out"]["per_intent"].items()}
    for row in comparison["per_intent_f1"]:
        allowed = allowed_f1_drop(limits.max_f1_drop, support.get(row["intent"]))
        if row["delta"] is not None and row["delta"] < -allowed:
            reasons.append(
                f"F1 of {row['intent']} drops by {-row['delta']:.2f} (tolerance {allowed:.2f})"
            )
    return Verdict(not reasons, reasons, comparison)
