"""What a model says: its answers, compared with the live model's, approved by an admin.

A model's answers are the responses of the domain inside its archive (`metadata.json`), kept
beside it as `responses.json` once read. A model whose answers differ from the live model's
(new, changed or removed responses) goes live only when an admin approves exactly that
difference, identified by its SHA-256 digest (`AnswerChanges.digest`); every answer of a
model about to go live must also pass the link rules (retrain/links.py).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from markupsafe import Markup
from sqlalchemy.orm import Session

from console.markdown import TargetNote, widget_html
from console.records import InputError
from console.settings import Settings
from console.tables import ModelApproval, TrainedModel, audit
from retrain import links, registry
from retrain.archive import archive_responses
from retrain.dataset import REVIEWED, digest_of, replace_atomically

RESPONSES_FILE = "responses.json"
DATA_FILE = "training-data.json"
SHOWN_PROBLEMS = 5


def responses_of(settings: Settings, model: TrainedModel) -> dict[str, Any]:
    """A registered model's responses: from `responses.json`, else its archive (then kept)."""
    kept = registry.folder(settings, model) / RESPONSES_FILE
    if kept.exists():
        return json.loads(kept.read_text(encoding="utf-8"))
    responses = archive_responses(registry.model_path(settings, model))
    temporary = kept.with_name(f".{RESPONSES_FILE}.tmp")
    temporary.write_text(json.dumps(responses, ensure_ascii=False), encoding="utf-8")
    temporary.replace(kept)
    return responses


def compare(old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, Any]]:
    """New, changed and removed responses: `{response, kind, old, new}` sorted by name."""
    entries = []
    for name in sorted(set(old) | set(new)):
        before, after = old.get(name), new.get(name)
        if before == after:
            continue
        kind = "new" if before is None else "removed" if after is None else "changed"
        entries.append({"response": name, "kind": kind, "old": before, "new": after})
    return entries


def digest(model_name: str, entries: list[dict[str, Any]]) -> str:
    """SHA-256 identifying exactly these changes for this model (what an admin approves)."""
    text = json.dumps(
        {"model": model_name, "changes": entries},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class AnswerChanges:
    """A model's answers against the live model's: the differences and refused links."""

    model_name: str
    against: str | None
    entries: list[dict[str, Any]]
    digest: str
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: the live model compared with, the digest to approve, each change."""
        return {
            "against": self.against,
            "digest": self.digest,
            "changes": self.entries,
            "link_problems": self.problems,
        }


def changes_for(session: Session, settings: Settings, model: TrainedModel) -> AnswerChanges:
    """How `model`'s answers differ from the live model's, and which of its links are refused."""
    live = registry.live_model(session)
    new = responses_of(settings, model)
    if live is not None and live.id == model.id:
        entries: list[dict[str, Any]] = []
    else:
        entries = compare(responses_of(settings, live) if live else {}, new)
    problems = links.response_problems(new, links.allowed_domains(settings))
    return AnswerChanges(
        model.name, live.name if live else None, entries, digest(model.name, entries), problems
    )


def usable(settings: Settings, model: TrainedModel | None) -> TrainedModel:
    """The model, if it can go live (InputError otherwise)."""
    if model is None:
        raise InputError("no model with this id", 404)
    if model.status == "live":
        raise InputError("this model is already live", 409)
    path = registry.model_path(settings, model)
    if model.status == "failed" or not model.on_disk or not path.exists():
        raise InputError("this model has no usable file", 409)
    return model


def activate(
    session: Session,
    settings: Settings,
    model_id: int,
    who: str,
    *,
    reason: str = "",
    approved: str = "",
    rollback: bool = False,
) -> TrainedModel:
    """Make a model live after the answer checks (every staff activation goes through here).

    Refused when any answer links where it may not; when its answers differ from the live
    model's, `approved` must be the digest of exactly those changes (the approval, recorded
    with who and when). A rollback to the previously live model needs no new approval.
    """
    model = usable(settings, session.get(TrainedModel, model_id))
    changes = changes_for(session, settings, model)
    if changes.problems:
        shown = "; ".join(changes.problems[:SHOWN_PROBLEMS])
        more = len(changes.problems) - SHOWN_PROBLEMS
        raise InputError(
            "this model's answers have refused links, it cannot go live: "
            + shown
            + (f" (and {more} more)" if more > 0 else "")
        )
    approving = bool(changes.entries) and not rollback
    if approving and not approved:
        raise InputError(
            f"this model changes {len(changes.entries)} answer(s) of the live model: an admin "
            "must approve them (the field 'changes' with the digest shown with them)"
        )
    if approving and approved != changes.digest:
        raise InputError(
            "these are not the answer changes that were approved (the live model or the "
            "model changed since they were shown): review them again",
            409,
        )
    live = registry.activate(session, settings, model.id, who, reason)
    if approving:
        session.add(
            ModelApproval(
                model_id=model.id,
                approved_by=who,
                against=changes.against,
                digest=changes.digest,
                changes=json.dumps(changes.entries, ensure_ascii=False),
            )
        )
        names = ", ".join(f"{e['kind']} {e['response']}" for e in changes.entries)
        audit(session, who, "answers approved", f"model {model.name}: {names}"[:2000])
        restore_training_data(session, settings, model, who)
    return live


def keep_training_data(settings: Settings, model: TrainedModel, work: Path, base: str) -> None:
    """Keep the exported reviewed.yml with a model awaiting approval (restored when approved)."""
    exported = work / REVIEWED
    text = exported.read_text(encoding="utf-8") if exported.exists() else ""
    path = registry.folder(settings, model) / DATA_FILE
    path.write_text(json.dumps({"base": base, "reviewed": text}), encoding="utf-8")


def restore_training_data(
    session: Session, settings: Settings, model: TrainedModel, who: str
) -> None:
    """After approval: the project's reviewed.yml becomes the model's, unless edited since."""
    kept = registry.folder(settings, model) / DATA_FILE
    if not kept.exists():
        return
    data = json.loads(kept.read_text(encoding="utf-8"))
    target = settings.project / REVIEWED
    current = target.read_bytes() if target.exists() else b""
    if current == data["reviewed"].encode():
        return
    if digest_of(current) != data["base"]:
        audit(session, who, "training data not updated", f"{REVIEWED} changed since the training")
        return
    replace_atomically(target, data["reviewed"])
    audit(session, who, "training data updated", str(REVIEWED))


# ---------- The answers as the widget shows them (for the approval pages) ----------


def refused_note(domains: tuple[str, ...]) -> TargetNote:
    """What the approval pages add after a link's target: 'refused' unless it may link there."""

    def note(target: str) -> Markup:
        if links.link_problem(links.Link(target, None, "markdown"), domains):
            return Markup(' <span class="flag bad">refused</span>')
        return Markup()

    return note


def condition_text(condition: Any) -> str:
    """A response variant's condition in words ('when standard is null')."""
    parts = []
    for rule in condition if isinstance(condition, list) else [condition]:
        if isinstance(rule, dict) and "name" in rule:
            parts.append(f"{rule.get('name')} is {json.dumps(rule.get('value'))}")
        else:
            parts.append(json.dumps(rule, ensure_ascii=False))
    return "when " + " and ".join(parts)


def variant_view(variant: Any, domains: tuple[str, ...]) -> dict[str, Any]:
    """One response variant for the page: rendered text, buttons, other fields and links."""
    variant = variant if isinstance(variant, dict) else {"text": str(variant)}
    text = variant.get("text")
    buttons = [
        (str(b.get("title", "")), str(b.get("payload", "")))
        for b in variant.get("buttons") or []
        if isinstance(b, dict)
    ]
    known = {"text", "buttons", "condition"}
    other = {k: v for k, v in variant.items() if k not in known}
    found = [
        {
            "label": link.label,
            "kind": link.kind,
            "target": link.target,
            "problem": links.link_problem(link, domains),
        }
        for link in links.variant_links(variant)
    ]
    return {
        "html": widget_html(text, refused_note(domains)) if isinstance(text, str) else Markup(),
        "condition": condition_text(variant["condition"]) if variant.get("condition") else None,
        "buttons": buttons,
        "other": json.dumps(other, ensure_ascii=False, indent=1) if other else None,
        "links": found,
    }


def changes_view(changes: AnswerChanges, domains: tuple[str, ...]) -> dict[str, Any]:
    """AnswerChanges for a template: each change with its old and new variants rendered."""
    entries = [
        {
            "response": entry["response"],
            "kind": entry["kind"],
            "old": [variant_view(v, domains) for v in entry["old"] or []],
            "new": [variant_view(v, domains) for v in entry["new"] or []],
        }
        for entry in changes.entries
    ]
    return {**changes.as_dict(), "entries": entries, "domains": domains}


def answer_view(answer: str, domains: tuple[str, ...]) -> dict[str, Any]:
    """A proposed FAQ answer for a template (the export preview)."""
    return variant_view({"text": answer}, domains)
