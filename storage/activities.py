"""Welcoming activities and the dates their series skip."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from storage.db import Connection, Database, date_from_db, from_db, to_db, upsert_sql, utcnow
from storage.models import Activity, ActivityData, DirectoryRow

_DATA_COLUMNS = (
    "ref",
    "group_id",
    "title",
    "category",
    "description",
    "venue",
    "address",
    "postcode",
    "lat",
    "lon",
    "starts_at",
    "duration_min",
    "rrule",
    "until",
    "languages",
    "cost",
    "needs",
    "contact",
)
_NAMES = (
    "id", *_DATA_COLUMNS, "status", "created_by", "updated_at", "paused", "stale_since",
    "moderated", "moderation_note",
)  # fmt: skip


def _select(prefix: str = "") -> str:
    names = [prefix + n for n in _NAMES]
    confirmed = f"COALESCE({prefix}confirmed_at, {prefix}created_at) AS confirmed_at"
    return ", ".join([*names, confirmed])


_COLUMNS = _select()
_PREFIXED = _select("a.")
# Shown by /find: published, not paused by its organiser, not hidden for want of an answer.
VISIBLE = "status = 'published' AND paused = 0 AND stale_since IS NULL"
_UPSERT = upsert_sql("activities", _DATA_COLUMNS, "ref")
_DIRECTORY_COLUMNS = (
    "id, group_id, title, category, lat, lon, starts_at, duration_min, rrule, until, languages, "
    f"cost, needs, last_end, ({VISIBLE}) AS shown"
)
LIST_BATCH = 1_000  # activities a list read takes at a time (the desk's table, the export)
DIRECTORY_BATCH = 2_000  # rows a directory read takes at a time (a few ms of the database)


def _activity(row: Any, skips: frozenset[date] = frozenset()) -> Activity:
    return Activity(
        id=row["id"],
        ref=row["ref"],
        group_id=row["group_id"],
        title=row["title"],
        category=row["category"],
        description=row["description"],
        venue=row["venue"],
        address=row["address"],
        postcode=row["postcode"],
        lat=row["lat"],
        lon=row["lon"],
        starts_at=from_db(row["starts_at"]),
        duration_min=row["duration_min"],
        rrule=row["rrule"],
        until=date_from_db(row["until"]),
        languages=tuple(row["languages"].split()),
        cost=row["cost"],
        needs=frozenset(row["needs"].split()),
        contact=row["contact"],
        status=row["status"],
        created_by=row["created_by"],
        updated_at=from_db(row["updated_at"]),
        skips=skips,
        paused=bool(row["paused"]),
        stale_since=from_db(row["stale_since"]) if row["stale_since"] else None,
        moderated=bool(row["moderated"]),
        moderation_note=row["moderation_note"],
        confirmed_at=from_db(row["confirmed_at"]),
    )


def _row(item: ActivityData, group_id: int) -> tuple[Any, ...]:
    return (
        item.ref,
        group_id,
        item.title,
        item.category,
        item.description,
        item.venue,
        item.address,
        item.postcode,
        item.lat,
        item.lon,
        to_db(item.starts_at),
        item.duration_min,
        item.rrule,
        item.until.isoformat() if item.until else None,
        " ".join(item.languages),
        item.cost,
        " ".join(sorted(item.needs)),
        item.contact,
    )


@lru_cache(maxsize=4096)
def _words(text: str) -> tuple[str, ...]:
    """The words of a column of words (languages), one tuple for each distinct text: most
    activities share a few, so a national load makes a few thousand, not 100,000."""
    return tuple(text.split())


@lru_cache(maxsize=4096)
def _word_set(text: str) -> frozenset[str]:
    """The words of a column of words (needs) as a set, one for each distinct text."""
    return frozenset(text.split())


def _directory_row(row: Any, skips: Mapping[int, frozenset[date]]) -> DirectoryRow:
    # positional, in DirectoryRow's order (a national load converts 100,000 rows at start)
    return DirectoryRow(
        row[0],  # id
        row[1],  # group_id
        row[2],  # title
        row[3],  # category
        row[4],  # lat
        row[5],  # lon
        from_db(row[6]),  # starts_at
        row[7],  # duration_min
        row[8],  # rrule
        date_from_db(row[9]),  # until
        _words(row[10]),  # languages
        _word_set(row[12]),  # needs
        not row[11],  # is_free
        skips.get(row[0], _NO_SKIPS),
        row[13],  # last_end
        bool(row[14]),  # shown
    )


_NO_SKIPS: frozenset[date] = frozenset()
_ADD_SKIP = (
    "INSERT INTO activity_skips (activity_id, local_date) VALUES (?, ?) ON CONFLICT DO NOTHING"
)


class ActivityRepository:
    """All SQL about activities."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # -- for the search directory: read in batches, and only what changed -------------------

    async def change_marks(self) -> tuple[int, int]:
        """The change counters of activities and of groups: each rises with every change."""
        async with self._db.conn.execute("SELECT name, seq FROM change_counter") as cur:
            marks = {row[0]: int(row[1]) for row in await cur.fetchall()}
        return marks.get("activities", 0), marks.get("groups", 0)

    async def _skips_of(self, ids: list[int]) -> dict[int, frozenset[date]]:
        found: dict[int, set[date]] = defaultdict(set)
        for i in range(0, len(ids), 500):  # SQLite's bound-parameter limit
            chunk = ids[i : i + 500]
            async with self._db.conn.execute(
                "SELECT activity_id, local_date FROM activity_skips "
                f"WHERE activity_id IN ({', '.join('?' * len(chunk))})",
                chunk,
            ) as cur:
                for row in await cur.fetchall():
                    found[row[0]].add(date.fromisoformat(row[1]))
        return {k: frozenset(v) for k, v in found.items()}

    async def directory_batch(
        self, after_id: int, limit: int = DIRECTORY_BATCH, group_ids: Iterable[int] | None = None
    ) -> list[DirectoryRow]:
        """The next shown activities by id after ``after_id`` (of these groups when given)."""
        where, params = f"{VISIBLE} AND id > ?", [after_id]
        if group_ids is not None:
            groups = sorted(set(group_ids))
            where += f" AND group_id IN ({', '.join('?' * len(groups)) or 'NULL'})"
            params += groups
        async with self._db.conn.execute(
            f"SELECT {_DIRECTORY_COLUMNS} FROM activities WHERE {where} ORDER BY id LIMIT ?",
            (*params, limit),
        ) as cur:
            rows = list(await cur.fetchall())
        skips = await self._skips_of([row[0] for row in rows])
        return [_directory_row(row, skips) for row in rows]

    async def changed_since(
        self, mark: int, limit: int = DIRECTORY_BATCH
    ) -> tuple[list[DirectoryRow], list[int], int]:
        """Activities changed after the ``mark`` (shown or not), the ids of those deleted, and
        the mark to ask from next; at most ``limit`` of each a call (ask again until none)."""
        async with self._db.conn.execute(
            f"SELECT {_DIRECTORY_COLUMNS}, change_seq FROM activities WHERE change_seq > ? "
            "ORDER BY change_seq LIMIT ?",
            (mark, limit),
        ) as cur:
            rows = list(await cur.fetchall())
        async with self._db.conn.execute(
            "SELECT change_seq, activity_id FROM activities_removed WHERE change_seq > ? "
            "ORDER BY change_seq LIMIT ?",
            (mark, limit),
        ) as cur:
            removed = list(await cur.fetchall())
        # a full list may have more after it: stop both lists where the first full one stops
        caps = [int(rows[-1][15])] if len(rows) == limit else []
        caps += [int(removed[-1][0])] if len(removed) == limit else []
        if caps:
            rows = [row for row in rows if row[15] <= min(caps)]
            removed = [row for row in removed if row[0] <= min(caps)]
        seqs = [int(row[15]) for row in rows] + [int(row[0]) for row in removed]
        skips = await self._skips_of([row[0] for row in rows])
        changed = [_directory_row(row, skips) for row in rows]
        return changed, [int(row[1]) for row in removed], max(seqs, default=mark)

    async def store_last_ends(self, ends: list[tuple[int, str]]) -> None:
        """Keep the worked-out last ends of series (changes nothing /find shows)."""
        if ends:
            await self._db.conn.executemany(
                "UPDATE activities SET last_end = ? WHERE id = ?",
                [(end, activity_id) for activity_id, end in ends],
            )

    async def shown(self, activity_id: int) -> Activity | None:
        """One activity /find shows (published, not paused, not hidden), or None."""
        found = await self.get(activity_id)
        return found if found is not None and found.visible else None

    async def shown_of_group(self, group_id: int) -> list[Activity]:
        """The activities of one group that /find shows."""
        rows = await self._list(f"{VISIBLE} AND group_id = ?", (group_id,))
        skips = await self._skips_of([a.id for a in rows])
        return [replace(a, skips=skips.get(a.id, frozenset())) for a in rows]

    async def _skips(self) -> dict[int, frozenset[date]]:
        found: dict[int, set[date]] = defaultdict(set)
        async with self._db.conn.execute("SELECT activity_id, local_date FROM activity_skips") as c:
            for row in await c.fetchall():
                found[row[0]].add(date.fromisoformat(row[1]))
        return {k: frozenset(v) for k, v in found.items()}

    async def published(self) -> list[Activity]:
        """Every published activity with its skipped dates: two queries, for the search index."""
        skips = await self._skips()
        async with self._db.conn.execute(
            f"SELECT {_COLUMNS} FROM activities WHERE {VISIBLE} ORDER BY id"
        ) as cur:
            return [_activity(r, skips.get(r["id"], frozenset())) for r in await cur.fetchall()]

    async def published_of_group(self, group_id: int) -> list[Activity]:
        """One group's activities as /find shows them, with their skipped dates (posters)."""
        async with self._db.conn.execute(
            f"SELECT {_COLUMNS} FROM activities WHERE group_id = ? AND {VISIBLE} ORDER BY id",
            (group_id,),
        ) as cur:
            rows = await cur.fetchall()
        async with self._db.conn.execute(
            "SELECT s.activity_id, s.local_date FROM activity_skips s "
            "JOIN activities a ON a.id = s.activity_id WHERE a.group_id = ?",
            (group_id,),
        ) as cur:
            found: dict[int, set[date]] = defaultdict(set)
            for row in await cur.fetchall():
                found[row[0]].add(date.fromisoformat(row[1]))
        return [_activity(r, frozenset(found.get(r["id"], ()))) for r in rows]

    async def get(self, activity_id: int) -> Activity | None:
        """One activity by id, any status."""
        async with self._db.conn.execute(
            f"SELECT {_COLUMNS} FROM activities WHERE id = ?", (activity_id,)
        ) as cur:
            row = await cur.fetchone()
        if row is None:
            return None
        async with self._db.conn.execute(
            "SELECT local_date FROM activity_skips WHERE activity_id = ?", (activity_id,)
        ) as cur:
            skips = frozenset(date.fromisoformat(r[0]) for r in await cur.fetchall())
        return _activity(row, skips)

    async def stamp(self) -> tuple[int, str]:
        """A cheap fingerprint that changes whenever activities change (for index refresh)."""
        async with self._db.conn.execute(
            "SELECT COUNT(*), COALESCE(MAX(updated_at), '') FROM activities"
        ) as cur:
            row = await cur.fetchone()
        async with self._db.conn.execute("SELECT COUNT(*) FROM activity_skips") as cur:
            skips = await cur.fetchone()
        assert row is not None and skips is not None
        return int(row[0]) * 1_000_003 + int(skips[0]), str(row[1])

    async def _batches(self, sql: str, params: tuple[Any, ...]) -> list[Any]:
        """Every row of ``sql`` (a SELECT of ``a.id`` and more, FROM activities a ... WHERE
        ..., to which ``AND a.id > ? ORDER BY a.id LIMIT ?`` is added), LIST_BATCH rows a
        query, so a network's thousands of activities never hold the database at once."""
        found: list[Any] = []
        last = 0
        while True:
            async with self._db.conn.execute(
                f"{sql} AND a.id > ? ORDER BY a.id LIMIT ?", (*params, last, LIST_BATCH)
            ) as cur:
                rows = list(await cur.fetchall())
            found += rows
            if len(rows) < LIST_BATCH:
                return found
            last = rows[-1]["id"]

    async def with_group_refs(self) -> list[tuple[Activity, str]]:
        """Every activity with its group's ref, for export (by ref, then id)."""
        skips = await self._skips()
        rows = await self._batches(
            f"SELECT {_PREFIXED}, g.ref AS group_ref "
            "FROM activities a JOIN groups g ON g.id = a.group_id WHERE 1 = 1",
            (),
        )
        found = [(_activity(r, skips.get(r["id"], frozenset())), r["group_ref"]) for r in rows]
        return sorted(found, key=lambda f: (f[0].ref is not None, f[0].ref or "", f[0].id))

    @staticmethod
    async def upsert_many(
        conn: Connection,
        items: Iterable[ActivityData],
        group_ids: Mapping[str, int],
    ) -> int:
        """Insert or update activities by ref inside the caller's transaction."""
        now = to_db(utcnow())
        items = list(items)
        rows = [(*_row(item, group_ids[item.group_ref]), now, now) for item in items]
        await conn.executemany(_UPSERT, rows)
        # An import is the network saying "still running": fresh again, shown again.
        await conn.executemany(
            "UPDATE activities SET confirmed_at = ?, fresh_asked_at = NULL, stale_since = NULL "
            "WHERE ref = ?",
            [(now, item.ref) for item in items],
        )
        return len(rows)

    @staticmethod
    async def claim_refs(conn: Connection, refs: Iterable[tuple[str | None, int]]) -> None:
        """Give activities without a ref (posted in the bot) the ref an export wrote for them,
        inside the caller's transaction, so the import's upsert updates them."""
        await conn.executemany(
            "UPDATE activities SET ref = ?1 WHERE id = ?2 AND ref IS NULL "
            "AND NOT EXISTS (SELECT 1 FROM activities WHERE ref = ?1)",
            list(refs),
        )

    async def count(self) -> int:
        """How many activities, any status."""
        async with self._db.conn.execute("SELECT COUNT(*) FROM activities") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def set_status(
        self, activity_id: int, status: str, now: datetime, only_from: tuple[str, ...] = ()
    ) -> bool:
        """Publish, hide or cancel an activity (from ``only_from`` states when given)."""
        if status not in ("draft", "pending", "published", "hidden", "cancelled"):
            raise ValueError(status)
        guard = ""
        params: tuple[object, ...] = (status, to_db(now), activity_id)
        if only_from:
            guard = f" AND status IN ({', '.join('?' * len(only_from))})"
            params = (*params, *only_from)
        async with self._db.conn.execute(
            f"UPDATE activities SET status = ?, updated_at = ? WHERE id = ?{guard}", params
        ) as cur:
            return cur.rowcount > 0

    # -- posted in the bot ------------------------------------------------------------------

    async def create(
        self, item: ActivityData, group_id: int, created_by: int, status: str, now: datetime
    ) -> int:
        """Insert an activity posted in the bot (published, or pending moderation)."""
        if status not in ("pending", "published"):
            raise ValueError(status)
        names = ", ".join((*_DATA_COLUMNS, "status", "created_by", "created_at", "updated_at"))
        marks = ", ".join("?" * (len(_DATA_COLUMNS) + 4))
        stamp = to_db(now)
        async with self._db.conn.execute(
            f"INSERT INTO activities ({names}) VALUES ({marks}) RETURNING id",
            (*_row(item, group_id), status, created_by, stamp, stamp),
        ) as cur:
            row = await cur.fetchone()
        assert row is not None
        return int(row[0])

    async def update(self, activity_id: int, item: ActivityData, now: datetime) -> bool:
        """Replace what an activity says (its owner, group, status and ref stay)."""
        columns = [c for c in _DATA_COLUMNS if c not in ("ref", "group_id")]
        values = _row(item, 0)[2:]
        sets = ", ".join(f"{c} = ?" for c in columns)
        async with self._db.conn.execute(
            f"UPDATE activities SET {sets}, updated_at = ? WHERE id = ?",
            (*values, to_db(now), activity_id),
        ) as cur:
            return cur.rowcount > 0

    async def set_skips(self, activity_id: int, days: Iterable[date], now: datetime) -> None:
        """Replace the dates a series skips."""
        async with self._db.transaction() as conn:
            await conn.execute("DELETE FROM activity_skips WHERE activity_id = ?", (activity_id,))
            await conn.executemany(
                _ADD_SKIP,
                [(activity_id, d.isoformat()) for d in days],
            )
            await conn.execute(
                "UPDATE activities SET updated_at = ? WHERE id = ?", (to_db(now), activity_id)
            )

    async def add_skip(self, activity_id: int, day: date, now: datetime) -> bool:
        """Cancel one date of a series; False when it was already cancelled."""
        async with self._db.transaction() as conn:
            async with conn.execute(
                _ADD_SKIP,
                (activity_id, day.isoformat()),
            ) as cur:
                added = cur.rowcount > 0
            await conn.execute(
                "UPDATE activities SET updated_at = ? WHERE id = ?", (to_db(now), activity_id)
            )
        return added

    async def _list(self, where: str, params: tuple[Any, ...]) -> list[Activity]:
        async with self._db.conn.execute(
            f"SELECT {_COLUMNS} FROM activities WHERE {where} ORDER BY id", params
        ) as cur:
            return [_activity(r) for r in await cur.fetchall()]

    async def manageable(self, user_id: int, group_ids: Iterable[int]) -> list[Activity]:
        """Activities the person posted, and those of the groups they run; not cancelled,
        unless a reviewer removed it after reported concerns (its organisers still see it)."""
        groups = sorted(set(group_ids))
        marks = ", ".join("?" * len(groups)) or "NULL"
        return await self._list(
            "(status != 'cancelled' OR id IN (SELECT activity_id FROM reports "
            f"WHERE outcome = 'removed')) AND (created_by = ? OR group_id IN ({marks}))",
            (user_id, *groups),
        )

    async def of_groups(self, group_ids: Iterable[int] | None) -> list[Activity]:
        """Every activity of these groups (of all when None), any status, oldest first (the
        desk's Activities page)."""
        groups = () if group_ids is None else tuple(sorted(set(group_ids)))
        marks = ", ".join("?" * len(groups)) or "NULL"
        where = "1 = 1" if group_ids is None else f"a.group_id IN ({marks})"
        rows = await self._batches(f"SELECT {_PREFIXED} FROM activities a WHERE {where}", groups)
        return [_activity(r) for r in rows]

    async def pending(self, group_ids: Iterable[int] | None) -> list[Activity]:
        """Activities waiting for moderation (of these groups; of all when None)."""
        if group_ids is None:
            return await self._list("status = 'pending'", ())
        groups = sorted(set(group_ids))
        marks = ", ".join("?" * len(groups)) or "NULL"
        return await self._list(f"status = 'pending' AND group_id IN ({marks})", tuple(groups))

    async def approved_count(self, user_id: int, group_id: int) -> int:
        """How many of the person's activities in the group an admin approved."""
        async with self._db.conn.execute(
            "SELECT COUNT(*) FROM activities WHERE created_by = ? AND group_id = ? AND moderated = 1",
            (user_id, group_id),
        ) as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def moderate(
        self, activity_id: int, outcome: str, note: str | None, now: datetime
    ) -> bool:
        """approve (published), changes (back to its author as a draft) or reject (cancelled).

        Only a pending activity can be moderated: a second press changes nothing.
        """
        status = {"approve": "published", "changes": "draft", "reject": "cancelled"}[outcome]
        async with self._db.conn.execute(
            "UPDATE activities SET status = ?, moderated = CASE WHEN ? = 1 THEN 1 ELSE moderated "
            "END, moderation_note = ?, confirmed_at = ?, updated_at = ? "
            "WHERE id = ? AND status = 'pending'",
            (status, int(outcome == "approve"), note, to_db(now), to_db(now), activity_id),
        ) as cur:
            return cur.rowcount > 0

    async def resubmit(self, activity_id: int, now: datetime) -> bool:
        """Send an activity changes were asked for back to moderation."""
        return await self._move(activity_id, "draft", "pending", now)

    async def recheck(self, activity_id: int, now: datetime) -> bool:
        """A published activity back to moderation (changed by someone not yet trusted)."""
        return await self._move(activity_id, "published", "pending", now)

    async def _move(self, activity_id: int, was: str, status: str, now: datetime) -> bool:
        """Change the status only from the expected one: a second press changes nothing."""
        async with self._db.conn.execute(
            "UPDATE activities SET status = ?, updated_at = ? WHERE id = ? AND status = ?",
            (status, to_db(now), activity_id, was),
        ) as cur:
            return cur.rowcount > 0

    async def set_paused(self, activity_id: int, paused: bool, now: datetime) -> bool:
        """Pause a series (hidden from /find, no reminders) or resume it."""
        async with self._db.conn.execute(
            "UPDATE activities SET paused = ?, updated_at = ? WHERE id = ? AND paused != ?",
            (paused, to_db(now), activity_id, paused),
        ) as cur:
            return cur.rowcount > 0

    async def confirm(self, activity_id: int, now: datetime) -> bool:
        """ "Still running": fresh again, and shown again if it was hidden for want of this."""
        async with self._db.conn.execute(
            "UPDATE activities SET confirmed_at = ?, fresh_asked_at = NULL, stale_since = NULL, "
            "updated_at = ? WHERE id = ? AND status != 'cancelled'",
            (to_db(now), to_db(now), activity_id),
        ) as cur:
            return cur.rowcount > 0

    async def unconfirmed(self, confirmed_before: datetime) -> list[Activity]:
        """Published activities nobody confirmed since the date and not asked about yet."""
        return await self._list(
            "status = 'published' AND paused = 0 AND fresh_asked_at IS NULL "
            "AND COALESCE(confirmed_at, created_at) < ?",
            (to_db(confirmed_before),),
        )

    async def unanswered(self, asked_before: datetime) -> list[Activity]:
        """Activities asked "still running?" before the date, not answered, still shown."""
        return await self._list(
            "status = 'published' AND stale_since IS NULL AND fresh_asked_at < ?",
            (to_db(asked_before),),
        )

    async def mark_asked(self, activity_ids: list[int], now: datetime) -> None:
        """Record that "still running?" was asked."""
        await self._db.conn.executemany(
            "UPDATE activities SET fresh_asked_at = ? WHERE id = ?",
            [(to_db(now), i) for i in activity_ids],
        )

    async def mark_stale(self, activity_ids: list[int], now: datetime) -> None:
        """Hide activities whose owners did not answer (until one confirms)."""
        await self._db.conn.executemany(
            "UPDATE activities SET stale_since = ?, updated_at = ? WHERE id = ?",
            [(to_db(now), to_db(now), i) for i in activity_ids],
        )
