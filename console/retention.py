"""`python -m console.retention`: delete conversations older than RETENTION_DAYS."""

from __future__ import annotations

import asyncio

from console.privacy import apply_retention
from console.settings import Settings
from console.tables import Database
from console.tracker import ConversationSource


def main() -> int:
    """Apply the retention period once and say what was deleted."""
    settings = Settings.from_env()
    if settings.retention_days <= 0:
        print("RETENTION_DAYS is 0: conversations are kept forever; nothing deleted.")
        return 0
    source = ConversationSource.from_files(settings.endpoints, settings.domain)
    deleted = asyncio.run(
        apply_retention(
            source, Database(settings.db_url), settings.retention_days, "retention (cli)"
        )
    )
    print(f"Deleted {len(deleted)} conversation(s) older than {settings.retention_days} days.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
