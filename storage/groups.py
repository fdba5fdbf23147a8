"""Groups and streams: the organisers every activity is traced to."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from storage.db import Connection, Database, to_db, upsert_sql, utcnow
from storage.models import Group, GroupData

_COLUMNS = (
    "id, ref, name, kind, stream, town, nation, lat, lon, email, website, phone, telegram, "
    "description, timezone, verified"
)
_DATA_COLUMNS = (
    "ref",
    "name",
    "kind",
    "stream",
    "town",
    "nation",
    "lat",
    "lon",
    "email",
    "website",
    "phone",
    "telegram",
    "description",
    "timezone",
)
_UPSERT = upsert_sql("groups", _DATA_COLUMNS, "ref")


def _group(row: Any) -> Group:
    return Group(
        id=row["id"],
        ref=row["ref"],
        name=row["name"],
        kind=row["kind"],
        stream=row["stream"],
        town=row["town"],
        nation=row["nation"],
        lat=row["lat"],
        lon=row["lon"],
        email=row["email"],
        website=row["website"],
        phone=row["phone"],
        telegram=row["telegram"],
        description=row["description"],
        timezone=row["timezone"],
        verified=bool(row["verified"]),
    )


class GroupRepository:
    """All SQL about groups."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def all(self) -> list[Group]:
        """Every group, by name."""
        async with self._db.conn.execute(f"SELECT {_COLUMNS} FROM groups ORDER BY name") as cur:
            return [_group(row) for row in await cur.fetchall()]

    async def get(self, group_id: int) -> Group | None:
        """One group by id."""
        async with self._db.conn.execute(
            f"SELECT {_COLUMNS} FROM groups WHERE id = ?", (group_id,)
        ) as cur:
            row = await cur.fetchone()
        return _group(row) if row else None

    async def refs(self) -> dict[str, int]:
        """Map of import reference to id."""
        async with self._db.conn.execute("SELECT ref, id FROM groups") as cur:
            return {row["ref"]: row["id"] for row in await cur.fetchall()}

    @staticmethod
    async def upsert_many(conn: Connection, groups: Iterable[GroupData]) -> int:
        """Insert or update groups by ref inside the caller's transaction."""
        now = to_db(utcnow())
        rows = [(*(getattr(g, c) for c in _DATA_COLUMNS), now, now) for g in groups]
        await conn.executemany(_UPSERT, rows)
        return len(rows)

    async def set_contacts(self, group_id: int, contacts: dict[str, str | None]) -> None:
        """Change a group's contacts (``email``, ``website``, ``phone``, ``telegram``, each
        checked before; None for none)."""
        async with self._db.transaction() as conn:
            await conn.execute(
                "UPDATE groups SET email = ?, website = ?, phone = ?, telegram = ?, "
                "updated_at = ? WHERE id = ?",
                (
                    contacts.get("email"),
                    contacts.get("website"),
                    contacts.get("phone"),
                    contacts.get("telegram"),
                    to_db(utcnow()),
                    group_id,
                ),
            )

    async def count(self) -> int:
        """How many groups."""
        async with self._db.conn.execute("SELECT COUNT(*) FROM groups") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0
