"""Secrets kept in files of their own under var/, created on first use."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def persistent_secret(path: Path) -> str:
    """The secret kept in `path`, created (mode 600) on first use."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it meanwhile
        return path.read_text().strip()
    with os.fdopen(descriptor, "w") as file:
        file.write(secret)
    return secret
