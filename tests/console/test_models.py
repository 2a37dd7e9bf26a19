"""The console database on SQLite: readers are not locked out while another process writes."""

import sqlite3

import sqlalchemy as sa

from console.tables import Database, User


def test_reads_go_on_while_another_connection_holds_a_write_transaction(tmp_path):
    path = tmp_path / "console.db"
    db = Database(f"sqlite:///{path}")
    with db.session() as session:
        assert session.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
    writer = sqlite3.connect(path, timeout=0)
    try:
        writer.execute("BEGIN EXCLUSIVE")
        writer.execute("INSERT INTO audit_log (who, what, details, at) VALUES ('a', 'b', '', 0)")
        with db.session() as session:  # a retraining job writing must not break the pages
            assert session.scalars(sa.select(User)).all() == []
    finally:
        writer.rollback()
        writer.close()
