"""Roles (coordinator, group admin, volunteer) and the audit log every change is written to."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from storage.db import Connection, Database, from_db, to_db, utcnow

log = logging.getLogger(__name__)
COORDINATOR, ADMIN, VOLUNTEER = "coordinator", "admin", "volunteer"
NETWORK = 0  # the group_id of a network-wide role
INVITE_VALID = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class Role:
    """A person's role, in one group or (coordinator) the whole network."""

    user_id: int
    role: str
    group_id: int
    label: str = ""


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One line of the audit log."""

    at: datetime
    actor: int | None
    action: str
    target: int | None
    group_id: int | None
    detail: str
    id: int = 0


@dataclass(frozen=True, slots=True)
class Redeemed:
    """What opening a valid invite did."""

    group_id: int
    joined: bool  # False: already in the team (or its maker): nothing changed, still unused


class RoleRepository:
    """All SQL about roles and the audit log; a change and its audit line share a transaction."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def grant(
        self, user_id: int, role: str, group_id: int, actor: int | None, now: datetime
    ) -> bool:
        """Give a role (audited); False when the person already had it."""
        if (role == COORDINATOR) != (group_id == NETWORK) or role not in (
            COORDINATOR,
            ADMIN,
            VOLUNTEER,
        ):
            raise ValueError(f"{role} with group {group_id}")
        async with self._db.transaction() as conn:
            added = await self._add_role(conn, user_id, role, group_id, now)
            if added:
                await self._audit(conn, now, actor, "grant", user_id, group_id, role)
        return added

    async def revoke(
        self, user_id: int, role: str, group_id: int, actor: int | None, now: datetime
    ) -> bool:
        """Take a role away (audited); False when the person did not have it."""
        async with self._db.transaction() as conn:
            async with conn.execute(
                "DELETE FROM roles WHERE user_id = ? AND role = ? AND group_id = ?",
                (user_id, role, group_id),
            ) as cur:
                removed = cur.rowcount > 0
            if removed:
                await self._audit(conn, now, actor, "revoke", user_id, group_id, role)
        return removed

    async def name(self, user_id: int, label: str) -> None:
        """Keep the person's Telegram first name on their roles that have none yet (an admin
        granted from the command line), so their team sees a name rather than an id."""
        label = label.strip()[:64]
        if label:
            async with self._db.transaction() as conn:
                await conn.execute(
                    "UPDATE roles SET label = ? WHERE user_id = ? AND label = ''", (label, user_id)
                )

    async def roles_of(self, user_id: int) -> list[Role]:
        """Every role the person holds (checked again on every command and button)."""
        async with self._db.conn.execute(
            "SELECT user_id, role, group_id, label FROM roles WHERE user_id = ? "
            "ORDER BY role, group_id",
            (user_id,),
        ) as cur:
            return [Role(r[0], r[1], r[2], r[3]) for r in await cur.fetchall()]

    async def members(self, group_id: int) -> list[Role]:
        """The admins and volunteers of a group."""
        async with self._db.conn.execute(
            "SELECT user_id, role, group_id, label FROM roles WHERE group_id = ? "
            "ORDER BY role, created_at, user_id",
            (group_id,),
        ) as cur:
            return [Role(r[0], r[1], r[2], r[3]) for r in await cur.fetchall()]

    async def team(self, group_id: int) -> list[Role]:
        """The group's team as people see it: each person once (an admin who is also a
        volunteer of the group, say after opening their own invite before that was refused,
        is shown as the admin)."""
        members = await self.members(group_id)
        admins = {m.user_id for m in members if m.role == ADMIN}
        return [m for m in members if m.role == ADMIN or m.user_id not in admins]

    async def manages(self, user_id: int, group_id: int) -> bool:
        """Whether the person is a coordinator or an admin of this group (read now)."""
        return any(
            r.role == COORDINATOR or (r.role == ADMIN and r.group_id == group_id)
            for r in await self.roles_of(user_id)
        )

    async def managed_groups(self, user_id: int) -> set[int] | None:
        """The groups the person runs as an admin; None for every group (a coordinator)."""
        roles = await self.roles_of(user_id)
        if any(r.role == COORDINATOR for r in roles):
            return None
        return {r.group_id for r in roles if r.role == ADMIN}

    async def responsible(self, group_id: int) -> set[int]:
        """Who is told about a group's activities: its admins, else the network's coordinators."""
        return (await self.looking_after(group_id))[1]

    async def looking_after(self, group_id: int) -> tuple[str | None, set[int]]:
        """Who looks after a group: ("admins", its admins), else ("coordinators", the
        network's coordinators), else (None, nobody)."""
        admins = {m.user_id for m in await self.members(group_id) if m.role == ADMIN}
        if admins:
            return "admins", admins
        coordinators = {m.user_id for m in await self.members(NETWORK)}
        return ("coordinators" if coordinators else None), coordinators

    async def nobody_told(self, group_id: int, about: str, waits_in: str, now: datetime) -> None:
        """Nobody could be told about ``about`` (such as "report:12"), which waits in
        ``waits_in``: written to the audit log and logged at WARNING (ids only, no personal
        data), so that someone running the bot sees it."""
        log.warning(
            "nobody could be told about %s (group %s): it waits in %s", about, group_id, waits_in
        )
        await self._audit(self._db.conn, now, None, "nobody_told", None, group_id, about)

    async def create_invite(
        self, group_id: int, actor: int, now: datetime, valid: timedelta = INVITE_VALID
    ) -> str:
        """A one-time invite code for the group (audited)."""
        code = secrets.token_urlsafe(12)
        async with self._db.transaction() as conn:
            await conn.execute(
                "INSERT INTO invites (code, group_id, created_by, created_at, expires_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (code, group_id, actor, to_db(now), to_db(now + valid)),
            )
            await self._audit(conn, now, actor, "invite", None, group_id, "")
        return code

    async def redeem_invite(
        self, code: str, user_id: int, label: str, now: datetime
    ) -> Redeemed | None:
        """Use an invite: the person becomes a volunteer; None if it is not valid.

        Once only, within its time: the use and the role are one transaction. "Used" is
        ``used_at``: /forget drops who used it (``used_by``), never the fact that it was used.
        Someone already in the group's team (its admin opening their own link) is not made a
        volunteer as well, and the invite stays unused for the person it was meant for.
        """
        async with self._db.transaction() as conn:
            async with conn.execute(
                "SELECT group_id, created_by FROM invites WHERE code = ? AND used_at IS NULL "
                "AND expires_at > ?",
                (code[:64], to_db(now)),
            ) as cur:
                found = await cur.fetchone()
            if found is None:
                return None
            group_id, actor = int(found[0]), found[1]
            async with conn.execute(
                "SELECT 1 FROM roles WHERE user_id = ? AND group_id = ? AND role IN (?, ?)",
                (user_id, group_id, ADMIN, VOLUNTEER),
            ) as cur:
                member = await cur.fetchone() is not None
            if member or actor == user_id:
                await self._audit(conn, now, user_id, "refused", None, group_id, "invite:own")
                return Redeemed(group_id, joined=False)
            await conn.execute(
                "UPDATE invites SET used_by = ?, used_at = ? WHERE code = ?",
                (user_id, to_db(now), code[:64]),
            )
            await self._add_role(conn, user_id, VOLUNTEER, group_id, now, label)
            await self._audit(conn, now, actor, "grant", user_id, group_id, "volunteer (invite)")
        return Redeemed(group_id, joined=True)

    async def log(
        self,
        actor: int | None,
        action: str,
        *,
        target: int | None = None,
        group_id: int | None = None,
        detail: str = "",
        now: datetime | None = None,
    ) -> None:
        """Write an audit line on its own (refusals, settings changed by a role)."""
        await self._audit(self._db.conn, now or utcnow(), actor, action, target, group_id, detail)

    @staticmethod
    async def _add_role(
        conn: Connection,
        user_id: int,
        role: str,
        group_id: int,
        now: datetime,
        label: str = "",
    ) -> bool:
        """Insert a role inside the caller's transaction; False when it was already there."""
        async with conn.execute(
            "INSERT INTO roles (user_id, role, group_id, created_at, label) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (user_id, role, group_id, to_db(now), label[:64]),
        ) as cur:
            return cur.rowcount > 0

    @staticmethod
    async def _audit(
        conn: Connection,
        now: datetime,
        actor: int | None,
        action: str,
        target: int | None,
        group_id: int | None,
        detail: str,
    ) -> None:
        await conn.execute(
            "INSERT INTO audit_log (at, actor, action, target, group_id, detail) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (to_db(now), actor, action, target, group_id, detail[:200]),
        )

    async def audit(
        self,
        limit: int = 100,
        *,
        action: str | None = None,
        groups: set[int] | None = None,
        before: int | None = None,
    ) -> list[AuditEntry]:
        """The latest audit lines, newest first: of one action (or every one whose name
        starts with ``action_`` too), about these groups (None: all), older than the line
        ``before`` (for paging)."""
        where = ["1 = 1"]
        params: list[object] = []
        if action:
            where.append("(action = ? OR action LIKE ? ESCAPE '\\')")
            params += [action, action.replace("_", "\\_") + "\\_%"]
        if groups is not None:
            where.append(f"group_id IN ({', '.join('?' * len(groups)) or 'NULL'})")
            params += sorted(groups)
        if before is not None:
            where.append("id < ?")
            params.append(before)
        async with self._db.conn.execute(
            "SELECT at, actor, action, target, group_id, detail, id FROM audit_log "
            f"WHERE {' AND '.join(where)} ORDER BY id DESC LIMIT ?",
            (*params, limit),
        ) as cur:
            return [
                AuditEntry(from_db(r[0]), r[1], r[2], r[3], r[4], r[5], r[6])
                for r in await cur.fetchall()
            ]
