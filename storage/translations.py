"""Activities' texts in other languages (one row per activity, language and field)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from storage.db import Connection, Database, to_db

# The fields an organiser translates, and the activity attribute each translates.
FIELDS: dict[str, str] = {
    "title": "title",
    "description": "description",
    "cost": "cost",
    "place": "venue",
}


@dataclass(frozen=True, slots=True)
class Translation:
    """One field of an activity in one language."""

    activity_id: int
    lang: str
    field: str
    text: str
    original: str  # the original text it was made from (or last confirmed against)
    status: str  # "published" or "pending" (a volunteer's, waiting for an admin)


_FIELD_ORDER = (
    "CASE field WHEN 'title' THEN 0 WHEN 'description' THEN 1 WHEN 'cost' THEN 2 ELSE 3 END"
)
_SELECT = "SELECT activity_id, lang, field, text, original, status FROM activity_translations"


def _rows(items: Iterable[Translation], now: datetime) -> list[tuple[object, ...]]:
    stamp = to_db(now)
    return [(t.activity_id, t.lang, t.field, t.text, t.original, t.status, stamp) for t in items]


_UPSERT = (
    "INSERT INTO activity_translations "
    "(activity_id, lang, field, text, original, status, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (activity_id, lang, field) DO UPDATE SET text = excluded.text, "
    "original = excluded.original, status = excluded.status, updated_at = excluded.updated_at"
)


class TranslationRepository:
    """All SQL about translations."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def save(self, items: Iterable[Translation], now: datetime) -> None:
        """Add or replace translated fields."""
        async with self._db.transaction() as conn:
            await self.save_in(conn, items, now)

    @staticmethod
    async def save_in(conn: Connection, items: Iterable[Translation], now: datetime) -> None:
        """Add or replace translated fields inside the caller's transaction (imports)."""
        await conn.executemany(_UPSERT, _rows(items, now))

    @staticmethod
    async def import_in(
        conn: Connection, by_ref: Mapping[str, Mapping[tuple[str, str], str]], now: datetime
    ) -> int:
        """An import's translations (per activity ref), made from the originals just imported:
        published, as the import is (an operator's)."""
        refs = sorted(by_ref)
        items: list[Translation] = []
        for start in range(0, len(refs), 500):
            chunk = refs[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            async with conn.execute(
                f"SELECT id, ref, title, description, cost, venue FROM activities "
                f"WHERE ref IN ({marks})",
                tuple(chunk),
            ) as cur:
                for r in await cur.fetchall():
                    originals = {"title": r[2], "description": r[3], "cost": r[4], "place": r[5]}
                    for (field, lang), text in by_ref[r[1]].items():
                        original = originals[field] or ""
                        items.append(Translation(r[0], lang, field, text, original, "published"))
        await conn.executemany(_UPSERT, _rows(items, now))
        return len(items)

    async def of_activity(self, activity_id: int) -> list[Translation]:
        """Every translated field of one activity, pending ones too."""
        async with self._db.conn.execute(
            f"{_SELECT} WHERE activity_id = ? ORDER BY lang, {_FIELD_ORDER}", (activity_id,)
        ) as cur:
            return [Translation(*r) for r in await cur.fetchall()]

    async def shown(self, activity_ids: Iterable[int], lang: str) -> dict[int, list[Translation]]:
        """The published translations into ``lang`` of these activities (one page's worth)."""
        ids = sorted(set(activity_ids))
        found: dict[int, list[Translation]] = defaultdict(list)
        if not ids or lang == "en":
            return found
        marks = ", ".join("?" * len(ids))
        async with self._db.conn.execute(
            f"{_SELECT} WHERE lang = ? AND status = 'published' AND activity_id IN ({marks})",
            (lang, *ids),
        ) as cur:
            for r in await cur.fetchall():
                found[r[0]].append(Translation(*r))
        return found

    async def confirm(self, activity_id: int, lang: str, originals: Mapping[str, str],
                      now: datetime) -> int:  # fmt: skip
        """An organiser says the translation still says what the original says."""
        async with self._db.transaction() as conn:
            total = 0
            for field, original in originals.items():
                async with conn.execute(
                    "UPDATE activity_translations SET original = ?, updated_at = ? "
                    "WHERE activity_id = ? AND lang = ? AND field = ?",
                    (original, to_db(now), activity_id, lang, field),
                ) as cur:
                    total += cur.rowcount
            return total

    async def publish_pending(self, activity_id: int, now: datetime) -> int:
        """An admin approved the activity: its waiting translations are shown."""
        async with self._db.conn.execute(
            "UPDATE activity_translations SET status = 'published', updated_at = ? "
            "WHERE activity_id = ? AND status = 'pending'",
            (to_db(now), activity_id),
        ) as cur:
            return cur.rowcount

    async def titled(self, activity_ids: Iterable[int]) -> dict[int, set[str]]:
        """For each activity, the languages its title is translated into (published)."""
        ids = sorted(set(activity_ids))
        found: dict[int, set[str]] = defaultdict(set)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            async with self._db.conn.execute(
                "SELECT activity_id, lang FROM activity_translations WHERE field = 'title' "
                f"AND status = 'published' AND activity_id IN ({marks})",
                tuple(chunk),
            ) as cur:
                for r in await cur.fetchall():
                    found[r[0]].add(r[1])
        return found

    async def published(self) -> dict[int, dict[tuple[str, str], str]]:
        """Every published translation, per activity: (field, language) → text (for export)."""
        found: dict[int, dict[tuple[str, str], str]] = defaultdict(dict)
        async with self._db.conn.execute(
            "SELECT activity_id, field, lang, text FROM activity_translations "
            "WHERE status = 'published'"
        ) as cur:
            for r in await cur.fetchall():
                found[r[0]][(r[1], r[2])] = r[3]
        return found

    async def readers_languages(self) -> list[str]:
        """The languages other than English that readers chose, most read first."""
        async with self._db.conn.execute(
            "SELECT locale FROM users WHERE locale IS NOT NULL AND locale != 'en' "
            "GROUP BY locale ORDER BY COUNT(*) DESC, locale"
        ) as cur:
            return [r[0] for r in await cur.fetchall()]
