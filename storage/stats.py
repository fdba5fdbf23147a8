"""The network's figures for a report (``sanctuary-bot stats``): counts only, no ids."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.db import Database, from_db, to_db


@dataclass(frozen=True, slots=True)
class Figure:
    """One count: what it counts, of which kind, in which month ("" for now)."""

    figure: str
    key: str
    month: str
    count: int


class StatsRepository:
    """Read-only aggregate queries."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def _pairs(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        async with self._db.conn.execute(sql, params) as cur:
            return [tuple(r) for r in await cur.fetchall()]

    async def figures(self, now: datetime) -> list[Figure]:
        """Everything the report shows, in a stable order."""
        out: list[Figure] = []

        async def add(figure: str, sql: str, params: tuple[Any, ...] = ()) -> None:
            for row in await self._pairs(sql, params):
                key, month, count = row  # every query selects these three
                out.append(Figure(figure, str(key or ""), str(month or ""), int(count or 0)))

        await add(
            "users_by_purpose",
            "SELECT COALESCE(intent, 'not said'), '', COUNT(*) FROM users GROUP BY 1 ORDER BY 1",
        )
        await add(
            "users_by_language",
            "SELECT COALESCE(locale, 'not chosen'), '', COUNT(*) FROM users GROUP BY 1 ORDER BY 1",
        )
        await add(
            "people_with_role",
            "SELECT role, '', COUNT(DISTINCT user_id) FROM roles GROUP BY 1 ORDER BY 1",
        )
        await add("alert_subscribers", "SELECT '', '', COUNT(*) FROM alert_subs")
        await add("groups", "SELECT kind, '', COUNT(*) FROM groups GROUP BY 1 ORDER BY 1")
        await _activities(add, now, "1 = 1", ())
        await add(  # for each language readers chose: published activities with no title in it
            "untranslated_for_readers",
            "SELECT r.locale, '', "
            "(SELECT COUNT(*) FROM activities WHERE status = 'published') - COALESCE(t.n, 0) "
            "FROM (SELECT DISTINCT locale FROM users WHERE locale IS NOT NULL AND locale != 'en') r "
            "LEFT JOIN (SELECT t.lang, COUNT(*) AS n FROM activity_translations t "
            "JOIN activities a ON a.id = t.activity_id WHERE t.field = 'title' "
            "AND t.status = 'published' AND a.status = 'published' GROUP BY t.lang) t "
            "ON t.lang = r.locale ORDER BY 1",
        )
        await _added(add, "1 = 1", ())
        for figure, kind in (("reminders_sent", "reminder"), ("digests_sent", "digest")):
            await add(  # sent from the outbox, and the monthly tallies of rows since purged
                figure,
                "SELECT '', month, SUM(n) FROM ("
                "SELECT substr(updated_at, 1, 7) AS month, COUNT(*) AS n FROM outbox "
                "WHERE kind = ? AND state = 'sent' GROUP BY 1 "
                "UNION ALL SELECT month, count FROM outbox_tally "
                "WHERE kind = ? AND state = 'sent') AS sent GROUP BY month ORDER BY month",
                (kind, kind),
            )
        for figure, column in (
            ("calls_launched", "COUNT(*)"),
            ("call_messages_sent", "SUM(sent)"),
            ("calls_i_did_it", "SUM(did)"),
        ):
            await add(
                figure,
                f"SELECT '', substr(launched_at, 1, 7), {column} FROM campaigns "
                "WHERE launched_at IS NOT NULL GROUP BY 2 ORDER BY 2",
            )
        return out

    async def keep(self, counted_at: datetime, figures: list[Figure]) -> None:
        """Keep a count of the network's figures as the day's (replacing an earlier count of
        the same day): the latest is what the desk shows, the days before its history. Two
        instances counting at once each write whole counts (the rows of one count share its
        ``counted_at``; ``kept`` reads one count only)."""
        day, at = to_db(counted_at)[:10], to_db(counted_at)
        rows = [
            (day, f.figure, f.key, f.month, f.count, position, at)
            for position, f in enumerate(figures)
        ]
        async with self._db.transaction() as conn:
            await conn.execute(
                "DELETE FROM stats_snapshots WHERE counted_on = ? AND counted_at < ?", (day, at)
            )
            await conn.executemany(
                "INSERT INTO stats_snapshots "
                "(counted_on, figure, key, month, count, position, counted_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (counted_on, figure, key, month) "
                "DO UPDATE SET count = excluded.count, position = excluded.position, "
                "counted_at = excluded.counted_at",
                rows,
            )

    async def kept(self) -> tuple[datetime, list[Figure]] | None:
        """The latest count kept (when it was counted, and the figures in their order), or
        None before the first."""
        latest = await self._pairs(
            "SELECT counted_on, counted_at FROM stats_snapshots "
            "ORDER BY counted_on DESC, counted_at DESC LIMIT 1"
        )
        if not latest:
            return None
        day, at = latest[0]
        rows = await self._pairs(
            "SELECT figure, key, month, count FROM stats_snapshots "
            "WHERE counted_on = ? AND counted_at = ? ORDER BY position",
            (day, at),
        )
        return from_db(at), [Figure(f, k, m, int(c)) for f, k, m, c in rows]

    async def history(self, since: str) -> list[tuple[str, str, str, int]]:
        """The counts of now kept each day from ``since`` (YYYY-MM-DD), oldest first: (day,
        figure, key, count), for the figures over time."""
        rows = await self._pairs(
            "SELECT counted_on, figure, key, count FROM stats_snapshots "
            "WHERE counted_on >= ? AND month = '' ORDER BY counted_on, position",
            (since,),
        )
        return [(str(d), str(f), str(k), int(c)) for d, f, k, c in rows]

    async def group_figures(self, now: datetime, group_ids: set[int]) -> list[Figure]:
        """What a group admin sees of their groups (their activities and the concerns about
        them): the same figures as ``figures``, counted in these groups only."""
        out: list[Figure] = []

        async def add(figure: str, sql: str, params: tuple[Any, ...] = ()) -> None:
            for key, month, count in await self._pairs(sql, params):
                out.append(Figure(figure, str(key or ""), str(month or ""), int(count or 0)))

        groups = tuple(sorted(group_ids))
        inside = f"group_id IN ({', '.join('?' * len(groups)) or 'NULL'})"
        await _activities(add, now, inside, groups)
        await _added(add, inside, groups)
        return out


Add = Callable[[str, str, tuple[Any, ...]], Awaitable[None]]


async def _activities(add: Add, now: datetime, inside: str, params: tuple[Any, ...]) -> None:
    """The activities by status, still to come, hidden for no answer to "still running?",
    and the concerns about them, open or reviewed (of the activities ``inside`` selects)."""
    await add(
        "activities",
        f"SELECT status, '', COUNT(*) FROM activities WHERE {inside} GROUP BY 1 ORDER BY 1",
        params,
    )
    await add(
        "activities_active",
        "SELECT '', '', COUNT(*) FROM activities WHERE status = 'published' AND "
        f"(starts_at >= ? OR (rrule IS NOT NULL AND (until IS NULL OR until >= ?))) AND {inside}",
        (to_db(now), to_db(now)[:10], *params),
    )
    await add(
        "activities_stale",
        "SELECT '', '', COUNT(*) FROM activities WHERE status = 'published' "
        f"AND stale_since IS NOT NULL AND {inside}",
        params,
    )
    await add(
        "concerns",
        "SELECT CASE WHEN r.reviewed_at IS NULL THEN 'open' ELSE 'reviewed' END, '', COUNT(*) "
        f"FROM reports r WHERE r.activity_id IN (SELECT id FROM activities WHERE {inside}) "
        "GROUP BY 1 ORDER BY 1",
        params,
    )


async def _added(add: Add, inside: str, params: tuple[Any, ...]) -> None:
    """Activities added, by month (of those ``inside`` selects)."""
    await add(
        "activities_added",
        f"SELECT '', substr(created_at, 1, 7), COUNT(*) FROM activities WHERE {inside} "
        "GROUP BY 2 ORDER BY 2",
        params,
    )
