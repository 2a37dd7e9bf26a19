"""What a model says: its answers, compared with the live model's, approved by an admin.

A model's answers are the responses of the domain inside its archive (`metadata.json`), kept
beside it as `responses.json` once read. A model whose answers differ from the live model's
(new, changed or removed responses) goes live only when an admin approves exactly that
difference, identified by its SHA-256 digest (`AnswerChanges.digest`); every answer of a
model about to go live must also pass the link rules (console/retrain/links.py).
"""

from __future__ import annotations

import hashlib
import json
import re
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from markupsafe import Markup, escape
from sqlalchemy.orm import Session

from console.models import ModelApproval, TrainedModel, audit
from console.records import InputError
from console.retrain import links, registry
from console.retrain.dataset import REVIEWED, digest_of, replace_atomically
from console.settings import Settings

RESPONSES_FILE = "responses.json"
DATA_FILE = "training-data.json"
METADATA = "metadata.json"
SHOWN_PROBLEMS = 5
# The widget's Markdown subset (widget/src/widget.js: INLINE, LIST_ITEM, link, markdown).
INLINE = re.compile(
    r"\[([^\]\n]+)\]\(((?:[^\s()]|\([^\s()]*\))+)\)"
    r"|\*\*(\S(?:[^\n\r\u2028\u2029]*?\S)?)\*\*"
    r"|\*([^\s*](?:[^*\n]*[^\s*])?)\*"
    r"|(?<![A-Za-z0-9_])_([^_\n]+)_(?![A-Za-z0-9_])"
)
LIST_ITEM = re.compile(r"^\s*(?:([-*])|(\d+)\.)\s+(.*)$")


class AnswersUnreadable(InputError):
    """A model file whose answers cannot be read: it cannot be compared, so not activated."""

    def __init__(self, message: str) -> None:
        super().__init__(message, 409)


def archive_responses(path: Path) -> dict[str, Any]:
    """The responses of the domain in a Rasa model archive (its metadata.json)."""
    try:
        with tarfile.open(path, "r:gz") as archive:
            for member in archive:
                if member.isfile() and member.name.removeprefix("./") == METADATA:
                    metadata = json.load(archive.extractfile(member))
                    responses = metadata["domain"]["responses"]
                    if not isinstance(responses, dict):
                        raise TypeError("responses is not a mapping")
                    return responses
    except (OSError, tarfile.TarError, ValueError, KeyError, TypeError) as error:
        raise AnswersUnreadable(f"the answers of {path.name} cannot be read: {error}") from None
    raise AnswersUnreadable(f"{path.name} has no {METADATA}: not a Rasa 3 model")


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


def target_note(target: str, domains: tuple[str, ...]) -> Markup:
    """A link's target spelled out, and why it is refused when it is."""
    note = Markup('<span class="link-target">→ <code>{}</code></span>').format(target)
    if links.link_problem(links.Link(target, None, "markdown"), domains):
        note += Markup(' <span class="flag bad">refused</span>')
    return note


def inline(text: str, domains: tuple[str, ...]) -> Markup:
    """The widget's inline Markdown: links, bold, italic; everything else as escaped text."""
    out = Markup()
    while match := INLINE.search(text):
        out += escape(text[: match.start()])
        label, target, bold = match.group(1), match.group(2), match.group(3)
        if label is not None:
            scheme = links.SCHEME.fullmatch(target)
            if scheme and scheme.group(1).lower() in links.SCHEMES:
                out += Markup('<span class="as-link">{}</span> {}').format(
                    inline(label, domains), target_note(target, domains)
                )
            else:  # the widget shows the label only
                out += escape(label) + Markup(
                    ' <span class="link-target">(not a link in the widget: <code>{}</code>)</span>'
                ).format(target)
        elif bold is not None:
            out += Markup("<strong>{}</strong>").format(inline(bold, domains))
        else:
            out += Markup("<em>{}</em>").format(inline(match.group(4) or match.group(5), domains))
        text = text[match.end() :]
    return out + escape(text)


def widget_html(text: str, domains: tuple[str, ...]) -> Markup:
    """An answer text as the widget renders it: paragraphs, line breaks and lists."""
    blocks: list[list[Any]] = []  # [tag, start, items]
    current: list[Any] | None = None
    for line in re.split(r"\r?\n", text):
        item = LIST_ITEM.match(line)
        if item:
            tag = "ul" if item.group(1) else "ol"
            if current is None or current[0] != tag:
                start = int(item.group(2)) if item.group(2) and int(item.group(2)) > 1 else None
                blocks.append(current := [tag, start, []])
            current[2].append(inline(item.group(3), domains))
        elif line.strip():
            if current is None or current[0] != "p":
                blocks.append(current := ["p", None, []])
            current[2].append(inline(line.strip(), domains))
        else:
            current = None
    html = Markup()
    for tag, start, items in blocks:
        if tag == "p":
            html += Markup("<p>{}</p>").format(Markup("<br>").join(items))
        else:
            attribute = Markup(' start="{}"').format(start) if start else Markup()
            lis = Markup().join(Markup("<li>{}</li>").format(i) for i in items)
            html += Markup("<{}{}>{}</{}>").format(Markup(tag), attribute, lis, Markup(tag))
    return html


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
        "html": widget_html(text, domains) if isinstance(text, str) else Markup(),
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
