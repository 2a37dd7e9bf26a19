r"""Reviewed annotations -> training data: `var/training/reviewed.yml` (docs/retraining.md).

The file lives under var/, beside the console's database, not among the tracked data files:
`git pull` cannot collide with it, and Rasa trains on it as extra data (`training_data`).
It is a pure function of the standing annotations, the rest of the training data and
the domain, so every export rewrites it whole and the same input gives the same bytes:

- Rasa 3 YAML, long example format: one `- text: "..."` per annotation with
  `metadata: {annotation: <id>}`, so an undone (or deleted) annotation's example can be
  found and dropped. Blocks are sorted by intent, examples by annotation id, FAQs by name:
  a new annotation only inserts lines, an undone one only deletes lines.
- A new FAQ's answer goes into the file's own `responses:` section (`utter_faq/<name>`);
  Rasa's importer merges NLU-file responses into the domain (ResponsesSyncImporter), so
  domain.yml is never rewritten. An FAQ is written only while it has a written example.
- Texts are normalised (whitespace runs, newlines included, become one space; stripped)
  and written as double-quoted YAML scalars: only `\` and `"` are escaped (and, in
  answers, line breaks and tabs). No `\u` escape is ever written: Rasa's YAML reader
  decodes `\uXXXX` itself in all-ASCII files before parsing.
- Refused, with a reason (Rejected): unknown intent or action; an empty example; more than
  MAX_EXAMPLE_CHARS characters; characters YAML cannot hold (controls, surrogates,
  U+FFFE/U+FFFF); Rasa entity markup (`[text](entity)`, `[text]{...}`, `[text][...]`),
  which Rasa would turn into an entity instead of reading the text back; an example of
  the held-out test set (it must never be trained on); a bad new FAQ (name, clash, answer
  empty, too long or with `{`/`}`, which Rasa's response templating reads as slots, or a
  link to a domain not allowed: retrain/links.py).
- Duplicates (skipped) and conflicts (not written, shown to the reviewer) are found by
  case-insensitive normalised text against every other `data/nlu/*.yml` file and among
  the batch's annotations; when annotations disagree about a text, none of them is written.
- Writing is atomic: the new text is read back with Rasa's RasaYAMLReader and must give
  exactly the planned examples and answers, then it goes to a temporary file in the same
  directory, is fsynced and renamed over the old file; on any error the old file stays.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rasa.shared.exceptions import RasaException
from rasa.shared.nlu.training_data.entities_parser import ENTITY_REGEX
from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader
from rasa.shared.nlu.training_data.training_data import TrainingData
from ruamel.yaml.error import YAMLError
from ruamel.yaml.reader import Reader

from certbot.tools.evaluate import HELD_OUT_FILE as HELD_OUT
from console.catalogue import load_catalogue
from console.records import FAQ_NAME
from console.tables import ANSWER_MAX, Annotation
from retrain import links

MAX_EXAMPLE_CHARS = 500
REVIEWED = Path("var/training/reviewed.yml")
# Where versions before 2026-12 wrote it (moved by `migrate_legacy`).
LEGACY_REVIEWED = Path("data/nlu/reviewed.yml")
NLU_DIR = Path("data/nlu")
FAQ_PREFIX = "faq/"
HELD_OUT_REASON = (
    f"the held-out test set ({HELD_OUT.as_posix()}) has this example: never trained on"
)
HEADER = (
    "# Training examples from the staff console's reviewed annotations, written by\n"
    "# retrain/dataset.py (one entry per annotation; see docs/retraining.md).\n"
    "# Do not edit by hand: correct or undo the annotation in the console instead.\n"
)
ESCAPES = {
    "\\": "\\\\",
    '"': '\\"',
    "\n": "\\n",
    "\t": "\\t",
    "\x85": "\\N",
    "\u2028": "\\L",
    "\u2029": "\\P",
}


class ExportError(Exception):
    """The export cannot be planned or written; the message says why. Nothing was changed."""


@dataclass(frozen=True)
class ReviewedExample:
    """A training example from an annotation (text normalised, intent with its FAQ)."""

    text: str
    intent: str
    annotation_id: int


@dataclass(frozen=True)
class Conflict:
    """An annotation whose text has another intent in the training data or another annotation."""

    text: str
    intent: str
    other_intent: str
    where: str
    annotation_id: int


@dataclass(frozen=True)
class Rejected:
    """An annotation that cannot become training data, and why."""

    annotation_id: int
    reason: str


@dataclass
class ExportPlan:
    """What an export changes in the reviewed file."""

    added: list[ReviewedExample]
    duplicates: list[ReviewedExample]
    conflicts: list[Conflict]
    rejected: list[Rejected]
    removed: list[ReviewedExample]
    new_faqs: dict[str, str]
    kept: list[ReviewedExample] = field(default_factory=list)
    faqs: dict[str, str] = field(default_factory=dict)
    removed_faqs: list[str] = field(default_factory=list)
    base_digest: str = ""

    @property
    def adds_intent(self) -> bool:
        """True when an FAQ is added, changed or removed: the domain changes (full training)."""
        return bool(self.new_faqs or self.removed_faqs)

    @property
    def changes_data(self) -> bool:
        """True when writing the plan changes the file."""
        return bool(self.added or self.removed or self.adds_intent)

    def as_dict(self) -> dict[str, Any]:
        """The plan as JSON-ready data (`kept` as a count)."""
        return {
            "added": [asdict(e) for e in self.added],
            "duplicates": [asdict(e) for e in self.duplicates],
            "conflicts": [asdict(c) for c in self.conflicts],
            "rejected": [asdict(r) for r in self.rejected],
            "removed": [asdict(e) for e in self.removed],
            "new_faqs": dict(self.new_faqs),
            "removed_faqs": list(self.removed_faqs),
            "kept": len(self.kept),
            "adds_intent": self.adds_intent,
        }


@dataclass(frozen=True)
class ReviewedFile:
    """The current reviewed file: its digest, header comment, examples and FAQs."""

    digest: str
    header: str
    examples: list[ReviewedExample]
    faqs: dict[str, str]


def single_spaced(text: str) -> str:
    """Whitespace runs (newlines included) as one space, stripped."""
    return " ".join(text.split())


def text_problem(text: str) -> str | None:
    """Why a normalised example text cannot be written, or None."""
    if not text:
        return "empty example"
    if len(text) > MAX_EXAMPLE_CHARS:
        return f"example longer than {MAX_EXAMPLE_CHARS} characters ({len(text)})"
    if bad := Reader.NON_PRINTABLE.search(text):
        return f"example contains the unprintable character U+{ord(bad.group()):04X}"
    if markup := ENTITY_REGEX.search(text):
        return (
            f"example contains {markup.group()[:60]!r}, which Rasa reads as entity markup: "
            "rephrase it without '[...](...)', '[...]{...}' or '[...][...]'"
        )
    return None


def answer_problem(answer: str, domains: tuple[str, ...] = ()) -> str | None:
    """Why a new FAQ's (stripped) answer cannot be written, or None (links: to `domains`)."""
    if not answer:
        return "a new FAQ needs an answer"
    if len(answer) > ANSWER_MAX:
        return f"answer longer than {ANSWER_MAX} characters ({len(answer)})"
    if bad := Reader.NON_PRINTABLE.search(answer):
        return f"answer contains the unprintable character U+{ord(bad.group()):04X}"
    if "{" in answer or "}" in answer:
        return "answer contains '{' or '}', which Rasa's responses read as slot placeholders"
    if refused := links.text_problems(answer, domains):
        return "answer refused: " + "; ".join(refused)
    return None


def clean_answer(answer: str | None) -> str:
    """A new FAQ's answer with CR LF and CR as LF, stripped."""
    return (answer or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def faq_name_problem(name: str, known: set[str]) -> str | None:
    """Why a new FAQ name cannot be used, or None."""
    if not FAQ_NAME.match(name):
        return (
            f"FAQ name {name[:60]!r} must be lowercase snake_case (a-z, 0-9, _), 3 to 40 characters"
        )
    if FAQ_PREFIX + name in known:
        return f"{FAQ_PREFIX}{name} exists already in domain.yml: assign it instead"
    return None


def intent_of(annotation: Annotation) -> str | None:
    """The intent an annotation teaches (None for an unknown action)."""
    if annotation.action == "assign_intent":
        return annotation.intent or ""
    if annotation.action == "out_of_scope":
        return "out_of_scope"
    if annotation.action == "new_faq":
        return FAQ_PREFIX + (annotation.faq_name or "")
    return None


def key_of(text: str) -> str:
    """What duplicates are compared by: normalised, case-folded text."""
    return single_spaced(text).casefold()


def full_intent(message: Any) -> str:
    """A Rasa message's intent with its retrieval sub-intent (faq/who_certifies)."""
    return message.get("intent_response_key") or message.get("intent")


def read_training(path: Path, name: str) -> TrainingData:
    """A Rasa YAML NLU file, or ExportError naming it."""
    try:
        return RasaYAMLReader().read(path)
    except (RasaException, YAMLError, OSError, UnicodeDecodeError) as error:
        raise ExportError(f"{name} cannot be read as Rasa training data: {error}") from error


def training_intents(project: Path) -> dict[str, dict[str, str]]:
    """Normalised case-folded text -> {intent: file} over the tracked data/nlu/* files."""
    found: dict[str, dict[str, str]] = {}
    for path in sorted((project / NLU_DIR).glob("*.y*ml")):
        name = path.relative_to(project).as_posix()
        for message in read_training(path, name).training_examples:
            found.setdefault(key_of(message.get("text")), {}).setdefault(full_intent(message), name)
    return found


def held_out_texts(project: Path) -> set[str]:
    """Normalised case-folded texts of the held-out test set (empty when it is absent)."""
    path = project / HELD_OUT
    if not path.exists():
        return set()
    data = read_training(path, HELD_OUT.as_posix())
    return {key_of(message.get("text")) for message in data.training_examples}


def digest_of(content: bytes) -> str:
    """SHA-256 of a file's bytes (of b'' for a missing file)."""
    return hashlib.sha256(content).hexdigest()


def header_of(text: str) -> str:
    """The file's leading comment lines, or the default header."""
    lines = []
    for line in text.splitlines(keepends=True):
        if not line.startswith("#"):
            break
        lines.append(line if line.endswith("\n") else line + "\n")
    return "".join(lines) or HEADER


def parse_reviewed(text: str) -> tuple[list[ReviewedExample], dict[str, str]]:
    """Examples and FAQ answers of a reviewed.yml text; ExportError if it is not ours."""
    name = REVIEWED.as_posix()
    try:
        data = RasaYAMLReader().reads(text)
    except (RasaException, YAMLError) as error:
        raise ExportError(f"{name} is not valid training data: {error}") from error
    examples = []
    for message in data.training_examples:
        example_metadata = (message.get("metadata") or {}).get("example")
        annotation = (
            example_metadata.get("annotation") if isinstance(example_metadata, dict) else None
        )
        if type(annotation) is not int:
            raise ExportError(
                f"{name} has an example without an annotation id ({message.get('text')[:60]!r}):"
                " move hand-written examples to another file in data/nlu/"
            )
        examples.append(ReviewedExample(message.get("text"), full_intent(message), annotation))
    faqs = {}
    for response, variants in data.responses.items():
        texts = [v.get("text") for v in variants or [] if isinstance(v, dict)]
        if not response.startswith("utter_" + FAQ_PREFIX) or len(texts) != 1 or not texts[0]:
            raise ExportError(
                f"{name} has a response the console did not write ({response[:60]!r}):"
                " move it to domain.yml"
            )
        faqs[response.removeprefix("utter_" + FAQ_PREFIX)] = texts[0]
    return examples, faqs


def read_reviewed(project: Path) -> ReviewedFile:
    """The current reviewed.yml (empty when there is none)."""
    path = project / REVIEWED
    content = path.read_bytes() if path.exists() else b""
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ExportError(f"{REVIEWED.as_posix()} is not UTF-8: {error}") from error
    examples, faqs = parse_reviewed(text) if text.strip() else ([], {})
    return ReviewedFile(digest_of(content), header_of(text), examples, faqs)


def quoted(text: str) -> str:
    """`text` as a double-quoted YAML scalar (printable text only)."""
    return '"' + "".join(ESCAPES.get(c, c) for c in text) + '"'


def render(header: str, examples: Iterable[ReviewedExample], faqs: dict[str, str]) -> str:
    """The file's text: examples grouped by intent, sorted; then the FAQ answers."""
    lines = [header.rstrip("\n"), 'version: "3.1"']
    by_intent: dict[str, list[ReviewedExample]] = {}
    for example in examples:
        by_intent.setdefault(example.intent, []).append(example)
    lines.append("nlu:" if by_intent else "nlu: []")
    for intent in sorted(by_intent):
        lines += [f"- intent: {quoted(intent)}", "  examples:"]
        for example in sorted(by_intent[intent], key=lambda e: e.annotation_id):
            lines += [
                f"  - text: {quoted(example.text)}",
                f"    metadata: {{annotation: {example.annotation_id}}}",
            ]
    if faqs:
        lines.append("responses:")
        for name in sorted(faqs):
            lines += [
                f"  {quoted('utter_' + FAQ_PREFIX + name)}:",
                f"  - text: {quoted(faqs[name])}",
            ]
    return "\n".join(lines) + "\n"


def check_round_trip(text: str, examples: list[ReviewedExample], faqs: dict[str, str]) -> None:
    """ExportError unless Rasa reads `text` back as exactly these examples and answers."""
    read_examples, read_faqs = parse_reviewed(text)
    if by_annotation(read_examples) != by_annotation(examples):
        expected = {e.annotation_id: e for e in examples}
        wrong = [e.annotation_id for e in read_examples if expected.get(e.annotation_id) != e]
        missing = set(expected) - {e.annotation_id for e in read_examples}
        ids = ", ".join(f"#{i}" for i in sorted({*wrong, *missing}))
        raise ExportError(f"Rasa would not read back the examples of annotation(s) {ids}")
    if read_faqs != faqs:
        raise ExportError("Rasa would not read back the new FAQ answers")


def define_faqs(
    active: list[Annotation], known: set[str], rejected: dict[int, str], domains: tuple[str, ...]
) -> dict[str, str]:
    """New FAQ name -> answer; the first annotation of a name defines it, bad ones rejected."""
    faqs: dict[str, str] = {}
    owner: dict[str, int] = {}
    for annotation in (a for a in active if a.action == "new_faq"):
        name, answer = annotation.faq_name or "", clean_answer(annotation.faq_answer)
        reason = faq_name_problem(name, known) or answer_problem(answer, domains)
        if reason is None and name in faqs and faqs[name] != answer:
            reason = (
                f"{FAQ_PREFIX}{name} already has another answer (annotation #{owner[name]}):"
                " assign the example to it instead"
            )
        if reason:
            rejected[annotation.id] = reason
        else:
            faqs.setdefault(name, answer)
            owner.setdefault(name, annotation.id)
    return faqs


def candidates(
    active: list[Annotation], known: set[str], rejected: dict[int, str]
) -> list[ReviewedExample]:
    """Examples of the annotations not rejected; the others get their reason."""
    examples = []
    for annotation in (a for a in active if a.id not in rejected):
        intent, text = intent_of(annotation), single_spaced(annotation.text or "")
        reason: str | None
        if intent is None:
            reason = f"unknown action {str(annotation.action)[:40]!r}"
        elif intent not in known:
            reason = f"unknown intent {intent[:80]!r}"
        else:
            reason = text_problem(text)
        if reason:
            rejected[annotation.id] = reason
        else:
            assert intent is not None  # no intent always has a reason (above)
            examples.append(ReviewedExample(text, intent, annotation.id))
    return examples


def by_annotation(examples: Iterable[ReviewedExample]) -> list[ReviewedExample]:
    """Examples in annotation order."""
    return sorted(examples, key=lambda e: e.annotation_id)


def sort_out(
    groups: dict[str, list[ReviewedExample]], training: dict[str, dict[str, str]]
) -> tuple[list[ReviewedExample], list[ReviewedExample], list[Conflict]]:
    """Examples grouped by case-folded text -> (to write, duplicates, conflicts)."""
    written, duplicates, conflicts = [], [], []
    for key, group in groups.items():
        if len({e.intent for e in group}) > 1:
            for example in group:
                other = next(o for o in group if o.intent != example.intent)
                conflicts.append(
                    Conflict(
                        example.text,
                        example.intent,
                        other.intent,
                        f"annotation #{other.annotation_id}",
                        example.annotation_id,
                    )
                )
            continue
        first, *rest = group
        duplicates += rest
        seen = training.get(key, {})
        others = sorted((i, w) for i, w in seen.items() if i != first.intent)
        if others:
            other_intent, where = others[0]
            conflicts.append(
                Conflict(first.text, first.intent, other_intent, where, first.annotation_id)
            )
        elif seen:
            duplicates.append(first)
        else:
            written.append(first)
    return written, duplicates, conflicts


def plan_export(
    project: Path, annotations: Sequence[Annotation], domains: tuple[str, ...] | None = None
) -> ExportPlan:
    """What exporting these annotations would change in project/data.

    Pass every standing annotation: examples in reviewed.yml whose annotation is undone or
    absent (deleted with its conversation) are removed. New FAQ answers may link to
    `domains` only (by default the domains project/domain.yml's answers link to).
    """
    if domains is None:
        domains = links.domains_used(project / "domain.yml")
    current = read_reviewed(project)
    known = {choice.name for choice in load_catalogue(project / "domain.yml")}
    active = sorted((a for a in annotations if a.undone_at is None), key=lambda a: a.id)
    rejected: dict[int, str] = {}
    faqs = define_faqs(active, known, rejected, domains)
    known |= {FAQ_PREFIX + name for name in faqs}
    groups: dict[str, list[ReviewedExample]] = {}
    for example in candidates(active, known, rejected):
        groups.setdefault(example.text.casefold(), []).append(example)
    new, duplicates, conflicts = sort_out(groups, training_intents(project))
    held_out = held_out_texts(project)
    written = []
    for example in new:
        if example.text.casefold() in held_out:
            rejected[example.annotation_id] = HELD_OUT_REASON
        else:
            written.append(example)

    used = {e.intent.removeprefix(FAQ_PREFIX) for e in written}
    faqs = {name: answer for name, answer in sorted(faqs.items()) if name in used}
    before = set(current.examples)
    return ExportPlan(
        added=by_annotation(e for e in written if e not in before),
        duplicates=by_annotation(duplicates),
        conflicts=sorted(conflicts, key=lambda c: c.annotation_id),
        rejected=[Rejected(i, reason) for i, reason in sorted(rejected.items())],
        removed=by_annotation(before - set(written)),
        new_faqs={n: a for n, a in faqs.items() if current.faqs.get(n) != a},
        kept=by_annotation(e for e in written if e in before),
        faqs=faqs,
        removed_faqs=sorted(set(current.faqs) - set(faqs)),
        base_digest=current.digest,
    )


def replace_atomically(path: Path, text: str) -> None:
    """Write `text` to a temporary file beside `path`, fsync it, rename it over `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def write_export(project: Path, plan: ExportPlan) -> Path:
    """Apply the plan to the project's reviewed file atomically; return the file's path."""
    path = project / REVIEWED
    content = path.read_bytes() if path.exists() else b""
    if digest_of(content) != plan.base_digest:
        raise ExportError(f"{REVIEWED.as_posix()} changed since the export was planned: plan again")
    examples = [*plan.kept, *plan.added]
    text = render(header_of(content.decode("utf-8")), examples, plan.faqs)
    check_round_trip(text, examples, plan.faqs)
    replace_atomically(path, text)
    return path


def training_data(project: Path) -> list[Path]:
    """What Rasa trains on: the tracked data/ folder and, once written, the reviewed file."""
    reviewed = project / REVIEWED
    return [project / "data", *([reviewed] if reviewed.exists() else [])]


def migrate_legacy(project: Path) -> str | None:
    """Move a reviewed file an earlier version wrote into data/nlu/ to var/; what was done.

    Only a file with this module's header is moved, and never over an existing one.
    """
    legacy, target = project / LEGACY_REVIEWED, project / REVIEWED
    if not legacy.exists() or not legacy.read_text(encoding="utf-8").startswith(HEADER[:40]):
        return None
    if target.exists():
        return f"{LEGACY_REVIEWED} left in place: {REVIEWED} exists already (merge by hand)"
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(legacy, target)
    return f"moved {LEGACY_REVIEWED} to {REVIEWED}"
