"""Campaign calls: drafts, their translations, the fixed audience, answers and figures."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from storage.db import Connection, Database, from_db, to_db
from storage.outbox import CHUNK, OutboxItem, insert_rows, lane_of, outbox_rows

KIND = "campaign"  # the outbox kind of a call
EDITABLE = ("draft", "scheduled", "paused")
# Fields a coordinator may change while the audience is not fixed yet, and after.
BEFORE_LAUNCH = frozenset(
    {"title", "body", "action_url", "topics", "area", "area_lat", "area_lon", "area_label",
     "radius_km", "send_at"}
)  # fmt: skip
AFTER_LAUNCH = frozenset({"title", "body", "action_url"})
_COLUMNS = (
    "id, title, body, action_url, topics, area, area_lat, area_lon, area_label, radius_km, "
    "send_at, state, created_by, created_at, updated_at, launched_at, recipients, sent, failed, "
    "unreachable, did, not_for_me"
)


def subject(campaign_id: int) -> str:
    """The outbox subject of a call's messages."""
    return f"campaign:{campaign_id}"


@dataclass(frozen=True, slots=True)
class Figures:
    """What happened to a call: the audience, deliveries, and anonymous answers."""

    recipients: int = 0
    sent: int = 0
    pending: int = 0
    failed: int = 0
    unreachable: int = 0
    did: int = 0
    not_for_me: int = 0


@dataclass(frozen=True, slots=True)
class Campaign:
    """A campaign call, with its translations (locale → (title, body))."""

    id: int
    title: str
    body: str
    action_url: str
    topics: int
    area: str
    area_lat: float | None
    area_lon: float | None
    area_label: str | None
    radius_km: float
    send_at: datetime | None
    state: str
    created_by: int | None
    created_at: datetime
    updated_at: datetime
    launched_at: datetime | None
    figures: Figures
    translations: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def launched(self) -> bool:
        """Whether its audience is fixed (it started sending)."""
        return self.launched_at is not None


def _campaign(row: Any, translations: dict[str, tuple[str, str]]) -> Campaign:
    return Campaign(
        id=row["id"],
        title=row["title"],
        body=row["body"],
        action_url=row["action_url"],
        topics=row["topics"],
        area=row["area"],
        area_lat=row["area_lat"],
        area_lon=row["area_lon"],
        area_label=row["area_label"],
        radius_km=row["radius_km"],
        send_at=from_db(row["send_at"]) if row["send_at"] else None,
        state=row["state"],
        created_by=row["created_by"],
        created_at=from_db(row["created_at"]),
        updated_at=from_db(row["updated_at"]),
        launched_at=from_db(row["launched_at"]) if row["launched_at"] else None,
        figures=Figures(
            recipients=row["recipients"],
            sent=row["sent"],
            failed=row["failed"],
            unreachable=row["unreachable"],
            did=row["did"],
            not_for_me=row["not_for_me"],
        ),
        translations=translations,
    )


class CampaignRepository:
    """All SQL about campaign calls. State changes are single guarded UPDATEs, so a
    duplicate confirmation or a stale button cannot act twice."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def _translations(self, campaign_id: int) -> dict[str, tuple[str, str]]:
        async with self._db.conn.execute(
            "SELECT locale, title, body FROM campaign_texts WHERE campaign_id = ? ORDER BY locale",
            (campaign_id,),
        ) as cur:
            return {r[0]: (r[1], r[2]) for r in await cur.fetchall()}

    async def get(self, campaign_id: int) -> Campaign | None:
        """One call with its translations."""
        async with self._db.conn.execute(
            f"SELECT {_COLUMNS} FROM campaigns WHERE id = ?", (campaign_id,)
        ) as cur:
            row = await cur.fetchone()
        if row is None:
            return None
        return _campaign(row, await self._translations(campaign_id))

    async def state(self, campaign_id: int) -> str | None:
        """Only the state (read for every message sent)."""
        async with self._db.conn.execute(
            "SELECT state FROM campaigns WHERE id = ?", (campaign_id,)
        ) as cur:
            row = await cur.fetchone()
        return str(row[0]) if row else None

    async def create(self, actor: int, now: datetime) -> Campaign:
        """A new empty draft."""
        async with self._db.conn.execute(
            "INSERT INTO campaigns (created_by, created_at, updated_at) VALUES (?, ?, ?) "
            "RETURNING id",
            (actor, to_db(now), to_db(now)),
        ) as cur:
            row = await cur.fetchone()
        assert row is not None
        found = await self.get(int(row[0]))
        assert found is not None
        return found

    async def draft_of(self, actor: int) -> Campaign | None:
        """The coordinator's latest unfinished draft."""
        async with self._db.conn.execute(
            "SELECT id FROM campaigns WHERE created_by = ? AND state = 'draft' "
            "ORDER BY id DESC LIMIT 1",
            (actor,),
        ) as cur:
            row = await cur.fetchone()
        return await self.get(int(row[0])) if row else None

    async def update(self, campaign_id: int, now: datetime, **values: Any) -> bool:
        """Change fields of a call still editable; False when it is not (any more)."""
        launched = await self._launched(campaign_id)
        allowed = AFTER_LAUNCH if launched else BEFORE_LAUNCH
        if not values or not set(values) <= allowed:
            raise ValueError(f"not editable now: {sorted(set(values) - allowed)}")
        sets = ", ".join(f"{name} = ?" for name in values)  # names checked against constants
        params = [to_db(v) if isinstance(v, datetime) else v for v in values.values()]
        async with self._db.conn.execute(
            f"UPDATE campaigns SET {sets}, updated_at = ? WHERE id = ? "
            f"AND state IN ('draft', 'scheduled', 'paused')",
            (*params, to_db(now), campaign_id),
        ) as cur:
            return cur.rowcount > 0

    async def _launched(self, campaign_id: int) -> bool:
        async with self._db.conn.execute(
            "SELECT launched_at IS NOT NULL FROM campaigns WHERE id = ?", (campaign_id,)
        ) as cur:
            row = await cur.fetchone()
        return bool(row and row[0])

    async def set_translation(
        self, campaign_id: int, locale: str, title: str, body: str, now: datetime
    ) -> bool:
        """Add or replace one language's text of an editable call."""
        async with self._db.transaction() as conn:
            async with conn.execute(
                "UPDATE campaigns SET updated_at = ? WHERE id = ? "
                "AND state IN ('draft', 'scheduled', 'paused')",
                (to_db(now), campaign_id),
            ) as cur:
                if cur.rowcount == 0:
                    return False
            await conn.execute(
                "INSERT INTO campaign_texts (campaign_id, locale, title, body) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (campaign_id, locale) DO UPDATE SET title = excluded.title, "
                "body = excluded.body",
                (campaign_id, locale, title, body),
            )
        return True

    async def discard(self, campaign_id: int) -> bool:
        """Delete a draft never sent (translations go with it)."""
        async with self._db.conn.execute(
            "DELETE FROM campaigns WHERE id = ? AND state = 'draft'", (campaign_id,)
        ) as cur:
            return cur.rowcount > 0

    async def recent(self, limit: int = 10) -> list[Campaign]:
        """The latest calls that are not drafts, newest first."""
        async with self._db.conn.execute(
            f"SELECT {_COLUMNS} FROM campaigns WHERE state != 'draft' ORDER BY id DESC LIMIT ?",
            (limit,),
        ) as cur:
            rows = await cur.fetchall()
        return [_campaign(r, {}) for r in rows]

    async def transition(
        self, campaign_id: int, before: Iterable[str], after: str, now: datetime
    ) -> bool:
        """Move a call from one of ``before`` to ``after``; False when it was not in them."""
        states = tuple(before)
        marks = ", ".join("?" * len(states))
        async with self._db.conn.execute(
            f"UPDATE campaigns SET state = ?, updated_at = ? WHERE id = ? AND state IN ({marks})",
            (after, to_db(now), campaign_id, *states),
        ) as cur:
            return cur.rowcount > 0

    async def due(self, now: datetime) -> list[int]:
        """Scheduled calls whose send time has come (or was changed to "as soon as possible")."""
        async with self._db.conn.execute(
            "SELECT id FROM campaigns WHERE state = 'scheduled' "
            "AND (send_at IS NULL OR send_at <= ?) ORDER BY send_at, id",
            (to_db(now),),
        ) as cur:
            return [int(r[0]) for r in await cur.fetchall()]

    async def start_launch(self, campaign_id: int, now: datetime, from_state: str) -> bool:
        """Fix the call's audience from now on: 'sending', its messages to be queued in
        chunks (``queue_chunk``, then ``end_launch``). Only from ``from_state`` (guarded): a
        second confirmation or a second planner run finds the state changed: False."""
        async with self._db.conn.execute(
            "UPDATE campaigns SET state = 'sending', launched_at = ?, recipients = 0, "
            "queued_until = 0, updated_at = ? WHERE id = ? AND state = ? "
            "AND launched_at IS NULL",
            (to_db(now), to_db(now), campaign_id, from_state),
        ) as cur:
            return cur.rowcount > 0

    async def queue_chunk(
        self, campaign_id: int, audience: list[int], until: int, now: datetime
    ) -> int:
        """One short transaction: the recipients among subscribers up to user id ``until``
        recorded and their messages queued; returns messages queued. Repeated after an
        interruption, it adds nobody twice."""
        payload = {"campaign_id": campaign_id}
        items = (OutboxItem(KIND, subject(campaign_id), u, payload) for u in audience)
        rows = outbox_rows(items, now)  # built first: the transaction only writes
        recipients = [(campaign_id, user_id) for user_id in audience]
        async with self._db.transaction() as conn:
            async with conn.executemany(
                "INSERT INTO campaign_recipients (campaign_id, user_id) VALUES (?, ?) "
                "ON CONFLICT DO NOTHING",
                recipients,
            ) as cur:
                added = cur.rowcount
            queued = await insert_rows(conn, rows)
            await conn.execute(
                "UPDATE campaigns SET queued_until = ?, recipients = recipients + ? WHERE id = ?",
                (until, added, campaign_id),
            )
        return queued

    async def end_launch(self, campaign_id: int) -> None:
        """Every chunk of the call's audience is queued."""
        await self._db.conn.execute(
            "UPDATE campaigns SET queued_until = NULL WHERE id = ?", (campaign_id,)
        )

    async def launching(self) -> list[tuple[int, int]]:
        """Calls whose launch was interrupted: (id, the last user id already queued)."""
        async with self._db.conn.execute(
            "SELECT id, queued_until FROM campaigns WHERE queued_until IS NOT NULL "
            "AND state IN ('sending', 'paused') ORDER BY id"
        ) as cur:
            return [(int(r[0]), int(r[1])) for r in await cur.fetchall()]

    async def pause(self, campaign_id: int, now: datetime) -> bool:
        """Stop sending now or stop a scheduled call's start. The renderer holds anything
        of a paused call the sender meets, so nothing more leaves even while the pending
        messages are being set aside (in chunks)."""
        async with self._db.conn.execute(
            "UPDATE campaigns SET state = 'paused', updated_at = ? WHERE id = ? "
            "AND state IN ('sending', 'scheduled')",
            (to_db(now), campaign_id),
        ) as cur:
            if cur.rowcount == 0:
                return False
        await self._set_aside(campaign_id, "paused", now)
        return True

    async def resume(self, campaign_id: int, now: datetime) -> str | None:
        """Carry on: a launched call sends what was set aside; the new state, or None.

        Put back in chunks; an interrupted resume is finished by ``finish_sent``."""
        async with self._db.conn.execute(
            "UPDATE campaigns SET state = CASE WHEN launched_at IS NULL THEN 'scheduled' "
            "ELSE 'sending' END, updated_at = ? WHERE id = ? AND state = 'paused' "
            "RETURNING state",
            (to_db(now), campaign_id),
        ) as cur:
            row = await cur.fetchone()
        if row is None:
            return None
        await self._put_back(campaign_id, now)
        return str(row[0])

    async def cancel(self, campaign_id: int, now: datetime) -> bool:
        """Stop a call for good: nothing more is sent; figures so far are kept."""
        async with self._db.transaction() as conn:
            async with conn.execute(
                "UPDATE campaigns SET state = 'cancelled', updated_at = ? WHERE id = ? "
                "AND state IN ('draft', 'scheduled', 'sending', 'paused')",
                (to_db(now), campaign_id),
            ) as cur:
                if cur.rowcount == 0:
                    return False
            await self._snapshot(conn, campaign_id)
        await self._set_aside(campaign_id, "cancelled", now)
        return True

    async def _set_aside(self, campaign_id: int, reason: str, now: datetime) -> int:
        """The call's pending messages are not sent (kept as 'cancelled' with the reason)."""
        return await self._move(
            campaign_id, reason, "pending", "state = 'cancelled', error = ?, updated_at = ?",
            (reason, to_db(now)),
        )  # fmt: skip

    async def _put_back(self, campaign_id: int, now: datetime | None) -> int:
        """The call's messages set aside are to be sent again."""
        if now is None:
            return await self._move(
                campaign_id, "sending", "cancelled", "state = 'pending', error = NULL"
            )
        return await self._move(
            campaign_id, "sending", "cancelled",
            "state = 'pending', error = NULL, not_before = ?, updated_at = ?",
            (to_db(now), to_db(now)),
        )  # fmt: skip

    async def _move(
        self,
        campaign_id: int,
        while_call: str,
        state: str,
        assignments: str,
        params: tuple[Any, ...] = (),
    ) -> int:
        """Update the call's outbox rows in ``state`` with ``assignments`` (a constant), a
        chunk of recipients at a time in short transactions, yielding in between; stops
        when the call is no longer ``while_call`` (paused or resumed meanwhile)."""
        after, moved = 0, 0
        while True:
            async with self._db.transaction() as conn:
                async with conn.execute(
                    "SELECT 1 FROM campaigns WHERE id = ? AND state = ?", (campaign_id, while_call)
                ) as cur:
                    if await cur.fetchone() is None:
                        return moved
                async with conn.execute(
                    "SELECT MAX(chat_id), COUNT(*) FROM (SELECT chat_id FROM outbox "
                    "WHERE kind = ? AND subject = ? AND chat_id > ? ORDER BY chat_id LIMIT ?) AS chunk",
                    (KIND, subject(campaign_id), after, CHUNK),
                ) as cur:
                    row = await cur.fetchone()
                if row is None or not row[1]:
                    return moved
                last, seen = int(row[0]), int(row[1])
                async with conn.execute(
                    f"UPDATE outbox SET {assignments} WHERE kind = ? AND subject = ? "
                    "AND chat_id > ? AND chat_id <= ? AND state = ?",
                    (*params, KIND, subject(campaign_id), after, last, state),
                ) as cur:
                    moved += cur.rowcount
            if seen < CHUNK:
                return moved
            after = last
            await asyncio.sleep(0)

    async def _snapshot(self, conn: Connection, campaign_id: int) -> None:
        """Copy the delivery figures from the outbox rows into the call's own columns (one
        pass over the call's rows)."""
        async with conn.execute(
            "SELECT state, COUNT(*) FROM outbox WHERE kind = ? AND subject = ? GROUP BY state",
            (KIND, subject(campaign_id)),
        ) as cur:
            counts = {str(r[0]): int(r[1]) for r in await cur.fetchall()}
        await conn.execute(
            "UPDATE campaigns SET sent = ?, failed = ?, unreachable = ? WHERE id = ?",
            (
                counts.get("sent", 0),
                counts.get("failed", 0),
                counts.get("blocked", 0),
                campaign_id,
            ),
        )

    async def finish_sent(self, now: datetime) -> list[int]:
        """Calls sending with nothing left to send become 'sent' (figures kept); their ids.

        Rows set aside by a pause that raced a resume are put back first.
        """
        finished: list[int] = []
        async with self._db.conn.execute(
            "SELECT id FROM campaigns WHERE state = 'sending' AND queued_until IS NULL"
        ) as cur:
            sending = [int(r[0]) for r in await cur.fetchall()]
        for campaign_id in sending:
            if await self._left(campaign_id, ("cancelled",)):
                await self._put_back(campaign_id, None)
            async with self._db.transaction() as conn:
                if await self._left(campaign_id, ("pending", "sending", "cancelled"), conn):
                    continue
                await self._snapshot(conn, campaign_id)
                await conn.execute(
                    "UPDATE campaigns SET state = 'sent', updated_at = ? WHERE id = ? "
                    "AND state = 'sending'",
                    (to_db(now), campaign_id),
                )
                finished.append(campaign_id)
        return finished

    async def _left(
        self, campaign_id: int, states: tuple[str, ...], conn: Connection | None = None
    ) -> bool:
        """Whether any of the call's messages is in one of ``states`` (unsent ones), found
        among the unsent rows of the campaign lane, not among all the call's rows."""
        marks = ", ".join("?" * len(states))
        async with (conn or self._db.conn).execute(
            f"SELECT 1 FROM outbox {self._db.indexed_by('outbox_claim')} WHERE state IN ({marks}) "
            "AND lane = ? AND kind = ? AND subject = ? LIMIT 1",
            (*states, lane_of(KIND), KIND, subject(campaign_id)),
        ) as cur:
            return await cur.fetchone() is not None

    async def figures(self, campaign: Campaign) -> Figures:
        """Live figures while sending; the kept ones once finished."""
        if campaign.state in ("sent", "cancelled") or not campaign.launched:
            return campaign.figures
        async with self._db.conn.execute(
            "SELECT state, COUNT(*) FROM outbox WHERE kind = ? AND subject = ? GROUP BY state",
            (KIND, subject(campaign.id)),
        ) as cur:
            counts = {r[0]: int(r[1]) for r in await cur.fetchall()}
        set_aside = counts.get("cancelled", 0) if campaign.state == "paused" else 0
        return Figures(
            recipients=campaign.figures.recipients,
            sent=counts.get("sent", 0),
            pending=counts.get("pending", 0) + counts.get("sending", 0) + set_aside,
            failed=counts.get("failed", 0),
            unreachable=counts.get("blocked", 0),
            did=campaign.figures.did,
            not_for_me=campaign.figures.not_for_me,
        )

    async def sent_since(self, campaign_id: int, since: datetime) -> int:
        """How many of the call's messages were sent since ``since`` (its current rate)."""
        async with self._db.conn.execute(
            "SELECT COUNT(*) FROM outbox WHERE state = 'sent' AND updated_at >= ? "
            "AND kind = ? AND subject = ?",
            (to_db(since), KIND, subject(campaign_id)),
        ) as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def respond(self, campaign_id: int, user_id: int, response: str) -> bool | None:
        """Record a recipient's answer; counts move with it, each person counted once.

        None when the person was not in the call's audience (a forged button); False when
        the answer was already this one.
        """
        if response not in ("did", "not"):
            raise ValueError(response)
        async with self._db.transaction() as conn:
            async with conn.execute(
                "SELECT response FROM campaign_recipients WHERE campaign_id = ? AND user_id = ?",
                (campaign_id, user_id),
            ) as cur:
                row = await cur.fetchone()
            if row is None:
                return None
            before = row[0]
            if before == response:
                return False
            await conn.execute(
                "UPDATE campaign_recipients SET response = ? WHERE campaign_id = ? AND user_id = ?",
                (response, campaign_id, user_id),
            )
            column = {"did": "did", "not": "not_for_me"}
            if before is not None:
                await conn.execute(
                    f"UPDATE campaigns SET {column[before]} = {column[before]} - 1 WHERE id = ?",
                    (campaign_id,),
                )
            await conn.execute(
                f"UPDATE campaigns SET {column[response]} = {column[response]} + 1 WHERE id = ?",
                (campaign_id,),
            )
        return True

    async def purge_recipients(self, before: datetime) -> int:
        """Forget who received calls finished before ``before`` (their counts stay)."""
        purged = 0
        while True:  # a chunk at a time, each its own short statement
            async with self._db.conn.execute(
                "DELETE FROM campaign_recipients WHERE (campaign_id, user_id) IN (SELECT "
                "campaign_id, user_id FROM campaign_recipients WHERE campaign_id IN (SELECT id "
                "FROM campaigns WHERE state IN ('sent', 'cancelled') AND updated_at < ?) LIMIT ?)",
                (to_db(before), CHUNK),
            ) as cur:
                purged += cur.rowcount
                if cur.rowcount < CHUNK:
                    return purged
            await asyncio.sleep(0)

    async def monthly(self) -> list[tuple[str, int, int, int]]:
        """(month, calls launched, messages sent, "I did it") by month of launch."""
        async with self._db.conn.execute(
            "SELECT substr(launched_at, 1, 7), COUNT(*), SUM(sent), SUM(did) FROM campaigns "
            "WHERE launched_at IS NOT NULL GROUP BY 1 ORDER BY 1"
        ) as cur:
            return [(r[0], int(r[1]), int(r[2] or 0), int(r[3] or 0)) for r in await cur.fetchall()]
