"""Users: the person's language, what brought them, and an optional coarse area."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from typing import Any

from storage.db import Database, from_db, to_db, utcnow
from storage.models import User

_COLUMNS = (
    "id, locale, intent, area_lat, area_lon, area_label, created_at, updated_at, "
    "remind_day_before, remind_hour_before, weekly_digest, last_seen_at, retention_asked_at"
)
_MISSING = object()


def _user(row: Any) -> User:
    return User(
        id=row["id"],
        locale=row["locale"],
        intent=row["intent"],
        area_lat=row["area_lat"],
        area_lon=row["area_lon"],
        area_label=row["area_label"],
        created_at=from_db(row["created_at"]),
        updated_at=from_db(row["updated_at"]),
        remind_day_before=bool(row["remind_day_before"]),
        remind_hour_before=bool(row["remind_hour_before"]),
        weekly_digest=bool(row["weekly_digest"]),
        last_seen_at=from_db(row["last_seen_at"]) if row["last_seen_at"] else None,
        retention_asked_at=(
            from_db(row["retention_asked_at"]) if row["retention_asked_at"] else None
        ),
    )


class UserRepository:
    """All SQL about users, with a bounded in-memory cache for the per-update lookup."""

    def __init__(
        self, db: Database, cache_size: int = 20_000, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self._db = db
        self.clock = clock  # the service clock, so tests can move time
        self._cache: OrderedDict[int, User | object] = OrderedDict()
        self._cache_size = cache_size
        self._mark: int | None = None  # the change counter last read (``follow``)

    def _remember(self, user_id: int, value: User | object) -> None:
        self._cache[user_id] = value
        self._cache.move_to_end(user_id)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    async def get(self, user_id: int) -> User | None:
        """The user, or None when they never chose anything (cached both ways)."""
        cached = self._cache.get(user_id, _MISSING)
        if cached is not _MISSING:
            self._cache.move_to_end(user_id)
            return cached if isinstance(cached, User) else None
        async with self._db.conn.execute(
            f"SELECT {_COLUMNS} FROM users WHERE id = ?", (user_id,)
        ) as cur:
            row = await cur.fetchone()
        user = _user(row) if row else None
        self._remember(user_id, user if user else None)
        return user

    async def _upsert(self, user_id: int, column: str, value: Any) -> User:
        # identifiers are constants, values bound
        allowed = ("locale", "intent", "remind_day_before", "remind_hour_before", "weekly_digest")
        assert column in allowed, column
        now = to_db(self.clock())
        return await self._write(
            user_id,
            f"INSERT INTO users (id, {column}, created_at, updated_at, last_seen_at) "
            f"VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET {column} = excluded.{column}, "
            f"updated_at = excluded.updated_at RETURNING {_COLUMNS}",
            (user_id, value, now, now, now),
        )

    async def _write(self, user_id: int, sql: str, params: tuple[Any, ...]) -> User:
        """Run an INSERT/UPDATE ... RETURNING the user's row, and keep the cache in step."""
        async with self._db.conn.execute(sql, params) as cur:
            row = await cur.fetchone()
        assert row is not None
        user = _user(row)
        self._remember(user_id, user)
        return user

    async def set_locale(self, user_id: int, locale: str) -> User:
        """Store the person's chosen language."""
        return await self._upsert(user_id, "locale", locale)

    async def set_intent(self, user_id: int, intent: str) -> User:
        """Store what brought the person here (seeking, volunteer, supporter)."""
        return await self._upsert(user_id, "intent", intent)

    async def set_reminder_lead(self, user_id: int, lead: str, on: bool) -> User:
        """Switch the day-before or hour-before reminder on or off."""
        column = "remind_day_before" if lead == "day" else "remind_hour_before"
        return await self._upsert(user_id, column, int(on))

    async def set_digest(self, user_id: int, on: bool) -> User:
        """Switch the weekly digest on or off."""
        return await self._upsert(user_id, "weekly_digest", int(on))

    async def digest_readers(self, after: int, limit: int) -> list[int]:
        """People who asked for the weekly digest and have a saved area: up to ``limit`` of
        them with an id above ``after``, by id (a page; the planner reads them page by page)."""
        async with self._db.conn.execute(
            "SELECT id FROM users WHERE id > ? AND weekly_digest = 1 AND area_lat IS NOT NULL "
            "ORDER BY id LIMIT ?",
            (after, limit),
        ) as cur:
            return [row[0] for row in await cur.fetchall()]

    async def ensure(self, user_id: int) -> User:
        """The user's row, created (with nothing in it) when they first need one."""
        user = await self.get(user_id)
        if user is not None:
            return user
        now = to_db(self.clock())
        return await self._write(
            user_id,
            f"INSERT INTO users (id, created_at, updated_at, last_seen_at) VALUES (?, ?, ?, ?) "
            f"ON CONFLICT (id) DO UPDATE SET updated_at = users.updated_at RETURNING {_COLUMNS}",
            (user_id, now, now, now),
        )

    async def save_area(self, user_id: int, lat: float, lon: float, label: str) -> User:
        """Save the person's area, rounded here to about 1 km whatever the caller passed."""
        now = to_db(self.clock())
        return await self._write(
            user_id,
            f"INSERT INTO users (id, area_lat, area_lon, area_label, created_at, updated_at, "
            f"last_seen_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
            f"area_lat = excluded.area_lat, area_lon = excluded.area_lon, "
            f"area_label = excluded.area_label, updated_at = excluded.updated_at "
            f"RETURNING {_COLUMNS}",
            (user_id, round(lat, 2), round(lon, 2), label[:80], now, now, now),
        )

    async def clear_area(self, user_id: int) -> None:
        """Forget the saved area."""
        await self._db.conn.execute(
            "UPDATE users SET area_lat = NULL, area_lon = NULL, area_label = NULL, "
            "updated_at = ? WHERE id = ?",
            (to_db(self.clock()), user_id),
        )
        self._cache.pop(user_id, None)

    async def touch(self, user_id: int, now: datetime) -> User | None:
        """The person wrote: note the day and withdraw any "do you want to stay?" question."""
        async with self._db.conn.execute(
            f"UPDATE users SET last_seen_at = ?, retention_asked_at = NULL WHERE id = ? "
            f"RETURNING {_COLUMNS}",
            (to_db(now), user_id),
        ) as cur:
            row = await cur.fetchone()
        user = _user(row) if row else None
        self._remember(user_id, user)
        return user

    async def silent_since(self, before: datetime, limit: int = 1000) -> list[tuple[int, str]]:
        """People not seen since ``before`` and not asked yet: (id, last seen as stored)."""
        async with self._db.conn.execute(
            "SELECT id, last_seen_at FROM users WHERE last_seen_at < ? "
            "AND retention_asked_at IS NULL ORDER BY last_seen_at LIMIT ?",
            (to_db(before), limit),
        ) as cur:
            return [(row[0], row[1]) for row in await cur.fetchall()]

    async def mark_asked(self, user_ids: list[int], now: datetime) -> None:
        """Record that these people were asked whether they want to stay."""
        await self._db.conn.executemany(
            "UPDATE users SET retention_asked_at = ? WHERE id = ? AND retention_asked_at IS NULL",
            [(to_db(now), user_id) for user_id in user_ids],
        )
        for user_id in user_ids:
            self._cache.pop(user_id, None)

    async def unanswered_since(self, before: datetime) -> list[int]:
        """People asked before ``before`` who never wrote again: retention deletes them."""
        # Sorted here: ordered by id in SQL, the planner may read every person in id order
        # rather than the few asked through their index
        async with self._db.conn.execute(
            "SELECT id FROM users WHERE retention_asked_at < ?", (to_db(before),)
        ) as cur:
            return sorted(row[0] for row in await cur.fetchall())

    async def follow(self, batch: int = 5000) -> int:
        """Drop from memory the rows changed since the last look, by any instance sharing the
        database; everything when some change is not found on a row (a person deleted, or
        changed twice). Returns how many changes there were."""
        async with self._db.conn.execute(
            "SELECT seq FROM change_counter WHERE name = 'users'"
        ) as cur:
            row = await cur.fetchone()
        mark = int(row[0]) if row else 0
        last, self._mark = self._mark, mark
        if last is None or mark == last:
            return 0
        async with self._db.conn.execute(
            "SELECT id FROM users WHERE change_seq > ? ORDER BY change_seq LIMIT ?",
            (last, batch),
        ) as cur:
            changed = [int(r[0]) for r in await cur.fetchall()]
        if len(changed) != mark - last:
            self._cache.clear()
        for user_id in changed:
            self._cache.pop(user_id, None)
        return mark - last

    def evict(self, user_id: int) -> None:
        """Drop the cached row (after the person's data was deleted elsewhere)."""
        self._cache.pop(user_id, None)

    async def count(self) -> int:
        """How many people the bot knows."""
        async with self._db.conn.execute("SELECT COUNT(*) FROM users") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0
