"""Backups: a consistent copy of a live database, and restoring one while the bot is stopped.

``backup`` uses SQLite's online backup API in one step: it reads one snapshot (a single read
transaction), and in WAL mode a reader never blocks the bot's writers, so the bot keeps
running and the copy is what the database was at one instant. The copy is written beside the
target under a temporary name, checked, made a single self-contained file (rollback journal,
no -wal) and only then renamed over the target, so a failed backup never leaves half a file
where the last good one was.

``restore`` checks the file is a sanctuary database this version can run (its migrations are
ours, none newer), then takes an exclusive lock on the database it replaces: every connection
to a WAL database holds a shared lock while it is open, so an exclusive lock is refused while
the bot (or anything else) has it open, and the restore stops. Holding the lock, it copies the
backup in through the same API, so a leftover -wal of the old database cannot be replayed
over the restored one. Migrations newer than the backup run when the bot next starts.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from storage.db import migrations

# Tables every sanctuary database has had since its first migrations.
_CORE_TABLES = frozenset({"schema_migrations", "users", "groups", "activities", "outbox"})
_BUSY_TIMEOUT_S = 10.0  # for backup: a moment's wait if a checkpoint holds the WAL index


class BackupError(Exception):
    """The backup or restore cannot be done; the message says why, in one line."""


class DatabaseInUse(BackupError):
    """The database to replace is open in another process (the bot is running)."""


@dataclass(frozen=True, slots=True)
class DatabaseFile:
    """What was copied: the file, its schema version and its size."""

    path: Path
    version: int
    size: int


def _check(conn: sqlite3.Connection, name: str) -> int:
    """The schema version of a sanctuary database, or BackupError saying what it is not."""
    try:
        (ok,) = conn.execute("PRAGMA quick_check").fetchone()
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{name} is not an SQLite database ({exc})") from None
    if ok != "ok":
        raise BackupError(f"{name} is damaged: {ok}")
    if not tables.issuperset(_CORE_TABLES):
        raise BackupError(f"{name} is not a sanctuary-bot database")
    known = {m.version: m.name for m in migrations()}
    applied = conn.execute("SELECT version, name FROM schema_migrations").fetchall()
    newer = [version for version, _name in applied if version not in known]
    if newer:
        raise BackupError(
            f"{name} comes from a newer sanctuary-bot (schema version {max(newer)}; this one "
            f"knows up to {max(known)}): upgrade first"
        )
    if any(known[version] != migration for version, migration in applied):
        raise BackupError(f"{name} is not a sanctuary-bot database (its migrations differ)")
    return max((version for version, _name in applied), default=0)


def _open_existing(path: Path, *, read_only: bool) -> sqlite3.Connection:
    if not path.is_file():
        raise BackupError(f"no such database: {path}")
    mode = "ro" if read_only else "rw"
    return sqlite3.connect(
        f"{path.resolve().as_uri()}?mode={mode}", uri=True, timeout=_BUSY_TIMEOUT_S
    )


def backup(source: Path, target: Path) -> DatabaseFile:
    """Copy the database at ``source`` (running or not) to ``target``, replacing it."""
    if target.exists() and source.exists() and target.resolve() == source.resolve():
        raise BackupError("the backup file cannot be the database itself")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    # Read-write (never created) rather than read-only: a WAL database whose -shm is gone
    # (the bot stopped) cannot be opened read-only. Nothing is written to it.
    with contextlib.closing(_open_existing(source, read_only=False)) as src:
        try:
            with contextlib.closing(sqlite3.connect(partial, isolation_level=None)) as dst:
                src.backup(dst)  # one step: one snapshot, however the bot writes meanwhile
                dst.execute("PRAGMA journal_mode=DELETE")  # one file, no -wal beside it
                version = _check(dst, f"the copy of {source}")
            with partial.open("rb") as fh:
                os.fsync(fh.fileno())
            partial.replace(target)
        finally:
            partial.unlink(missing_ok=True)
    return DatabaseFile(target, version, target.stat().st_size)


def restore(source: Path, target: Path) -> DatabaseFile:
    """Replace the database at ``target`` by the backup ``source``, unless it is in use."""
    if target.exists() and target.resolve() == source.resolve():
        raise BackupError("the backup file is the database itself")
    with contextlib.closing(_open_existing(source, read_only=True)) as src:
        version = _check(src, str(source))
        target.parent.mkdir(parents=True, exist_ok=True)
        # No waiting: a lock that is held means someone has the database open.
        dst = sqlite3.connect(target, timeout=0, isolation_level=None)
        try:
            try:
                dst.execute("PRAGMA locking_mode=EXCLUSIVE")
                dst.execute("BEGIN EXCLUSIVE")
                dst.execute("COMMIT")  # the lock stays until the connection closes
            except sqlite3.OperationalError:
                raise DatabaseInUse(
                    f"{target} is in use (is the bot running?): stop it, then restore"
                ) from None
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=WAL")  # as the bot keeps it
        finally:
            dst.close()
    return DatabaseFile(target, version, target.stat().st_size)
