"""Rasa 3 model archives: the answers in them, and a copy of one with new answers.

The bot says what the domain in an archive's `metadata.json` says (Rasa's NLG reads it);
the ResponseSelector keeps a copy of the FAQ answers in its `*.responses.json`, shown in
parse data. No trained component uses an answer's text to predict (the ResponseSelector's
labels are the FAQ names, `use_text_as_label` off), so a model with new answer texts is the
old archive with both places rewritten (docs/retraining.md, "Editing an answer").
"""

from __future__ import annotations

import io
import json
import tarfile
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from console.records import InputError

METADATA = "metadata.json"
SELECTOR_RESPONSES = ".responses.json"


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
                    content = archive.extractfile(member)
                    assert content is not None  # extractfile gives every regular file
                    metadata = json.load(content)
                    responses = metadata["domain"]["responses"]
                    if not isinstance(responses, dict):
                        raise TypeError("responses is not a mapping")
                    return responses
    except (OSError, tarfile.TarError, ValueError, KeyError, TypeError) as error:
        raise AnswersUnreadable(f"the answers of {path.name} cannot be read: {error}") from None
    raise AnswersUnreadable(f"{path.name} has no {METADATA}: not a Rasa 3 model")


def with_answers(
    source: Path, target: Path, domain: dict[str, Any], selector: dict[str, Any]
) -> None:
    """Write `source` to `target` with `domain` in its metadata and `selector`'s answers.

    The copy gets a new model id and training time: it is another model. Written to a
    temporary file first, so `target` is never half written.
    """
    partial = target.with_name(f".{target.name}.partial")
    with tarfile.open(source, "r:gz") as old, tarfile.open(partial, "w:gz") as new:
        for member in old:
            content = old.extractfile(member) if member.isfile() else None
            name = member.name.removeprefix("./")
            if name == METADATA:
                # A Rasa model's metadata.json is a regular file (archive_responses reads it).
                assert content is not None
                metadata = json.load(content)
                metadata["domain"] = domain
                metadata["model_id"] = uuid.uuid4().hex
                metadata["trained_at"] = datetime.now(timezone.utc).replace(tzinfo=None).isoformat()
                content = replaced(member, metadata)
            elif name.endswith(SELECTOR_RESPONSES):
                content = replaced(member, selector)
            new.addfile(member, content)
    partial.replace(target)


def replaced(member: tarfile.TarInfo, data: Any) -> io.BytesIO:
    """`data` as the new JSON content of `member` (whose size is set to match)."""
    raw = json.dumps(data).encode()
    member.size = len(raw)
    return io.BytesIO(raw)
