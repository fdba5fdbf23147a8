"""A person's data across tables: everything we keep about them, and deleting all of it.

Every table that holds a person's Telegram id is named here, once. tests/test_privacy.py
scans every table of the schema for a forgotten person's id, so a new table that stores one
and is not handled here fails the suite.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from storage.db import Database, to_db
from storage.outbox import delete_counted

_PROFILE = (
    "id, locale, intent, area_lat, area_lon, area_label, remind_day_before, "
    "remind_hour_before, weekly_digest, created_at, updated_at, last_seen_at, retention_asked_at"
)


class PersonalDataRepository:
    """Export and erasure of one person's data (the /mydata and /forget commands)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def _rows(self, sql: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
        async with self._db.conn.execute(sql, params) as cur:
            return [dict(row) for row in await cur.fetchall()]

    async def export(self, user_id: int) -> dict[str, Any] | None:
        """Everything stored about the person, as plain JSON-ready values; None if nothing."""
        profile = await self._rows(f"SELECT {_PROFILE} FROM users WHERE id = ?", (user_id,))
        reminders = await self._rows(
            "SELECT r.activity_id, a.title AS activity, r.created_at FROM reminders r "
            "JOIN activities a ON a.id = r.activity_id WHERE r.user_id = ? "
            "ORDER BY r.created_at, r.activity_id",
            (user_id,),
        )
        messages = await self._rows(
            "SELECT kind, subject, state, attempts, not_before, created_at, updated_at "
            "FROM outbox WHERE chat_id = ? ORDER BY id",
            (user_id,),
        )
        chat = await self._rows(
            "SELECT unreachable, reason, updated_at FROM chat_status WHERE chat_id = ?",
            (user_id,),
        )
        posted = await self._rows(
            "SELECT id, title, status, created_at FROM activities WHERE created_by = ? ORDER BY id",
            (user_id,),
        )
        roles = await self._rows(
            "SELECT role, group_id, label, created_at FROM roles WHERE user_id = ? ORDER BY role",
            (user_id,),
        )
        audit = await self._rows(
            "SELECT at, action, group_id, detail, actor = ? AS by_you FROM audit_log "
            "WHERE actor = ? OR target = ? ORDER BY id",
            (user_id, user_id, user_id),
        )
        alerts = await self._rows(
            "SELECT topics, areas, created_at, updated_at FROM alert_subs WHERE user_id = ?",
            (user_id,),
        )
        calls = await self._rows(
            "SELECT r.campaign_id, c.title, r.response FROM campaign_recipients r "
            "JOIN campaigns c ON c.id = r.campaign_id WHERE r.user_id = ? ORDER BY r.campaign_id",
            (user_id,),
        )
        reports = await self._rows(
            "SELECT r.activity_id, a.title AS activity, r.reason, r.words, r.created_at, "
            "r.reviewed_at FROM reports r JOIN activities a ON a.id = r.activity_id "
            "WHERE r.reporter = ? ORDER BY r.id",
            (user_id,),
        )
        interest = await self._rows(
            "SELECT i.activity_id, a.title AS activity, i.created_at FROM interest i "
            "JOIN activities a ON a.id = i.activity_id WHERE i.user_id = ? ORDER BY i.created_at",
            (user_id,),
        )
        safeguarding = await self._rows(
            "SELECT group_id, set_at FROM safeguarding_contacts WHERE user_id = ?", (user_id,)
        )
        feedback = await self._rows(
            "SELECT f.activity_id, a.title AS activity, f.welcome, f.words, f.created_at "
            "FROM feedback f JOIN activities a ON a.id = f.activity_id WHERE f.user_id = ? "
            "ORDER BY f.id",
            (user_id,),
        )
        drafts = await self._rows(
            "SELECT group_id, activity_id, section, step, data, created_at, updated_at "
            "FROM activity_drafts WHERE user_id = ?",
            (user_id,),
        )
        awaited = await self._rows(
            "SELECT journey, about, updated_at FROM awaited_answers WHERE user_id = ? "
            "ORDER BY journey",
            (user_id,),
        )
        session = await self._rows(
            "SELECT data, updated_at FROM sessions WHERE user_id = ?", (user_id,)
        )
        found = (profile, reminders, messages, chat, posted, roles, audit, alerts, calls)
        if not any((*found, reports, interest, safeguarding, feedback, drafts, awaited, session)):
            return None
        return {
            "profile": profile[0] if profile else None,
            "reminders": reminders,
            "messages": messages,
            "chat_status": chat[0] if chat else None,
            "activities_posted": posted,
            "roles": roles,
            "audit_log": audit,
            "campaign_alerts": alerts[0] if alerts else None,
            "campaign_calls_received": calls,
            "concerns_reported": reports,
            "interested_in": interest,
            "safeguarding_contact_of": safeguarding,
            "feedback_given": feedback,
            "post_in_progress": drafts[0] if drafts else None,
            "answers_awaited": awaited,
            "conversation": session[0] if session else None,
        }

    async def erase(self, user_id: int) -> dict[str, int]:
        """Delete the person and everything linked to them, in one transaction.

        Messages already sent stay only as anonymous monthly counts; pending ones are dropped.
        Activities they posted pass to their group (no owner) instead of vanishing; their roles
        go; audit lines stay without their id.
        Returns how many rows each table lost (or changed, for activities).
        """
        done: dict[str, int] = {}
        async with self._db.transaction() as conn:
            done["outbox"] = await delete_counted(conn, "chat_id = ?", (user_id,))
            for table, sql in (
                ("chat_status", "DELETE FROM chat_status WHERE chat_id = ?"),
                ("reminders", "DELETE FROM reminders WHERE user_id = ?"),
                ("activities", "UPDATE activities SET created_by = NULL WHERE created_by = ?"),
                ("roles", "DELETE FROM roles WHERE user_id = ?"),
                ("alert_subs", "DELETE FROM alert_subs WHERE user_id = ?"),
                # Who received a call and what they answered goes; the call's counts stay.
                ("campaign_recipients", "DELETE FROM campaign_recipients WHERE user_id = ?"),
                ("campaigns", "UPDATE campaigns SET created_by = NULL WHERE created_by = ?"),
                # A launch interrupted just after queueing them starts queueing again from
                # the first subscriber (nobody is queued twice).
                (
                    "campaigns_queued",
                    "UPDATE campaigns SET queued_until = 0 WHERE queued_until = ?",
                ),
                ("invites_made", "UPDATE invites SET created_by = NULL WHERE created_by = ?"),
                # An invite that was used stays used (used_at), no longer saying by whom.
                ("invites_used", "UPDATE invites SET used_by = NULL WHERE used_by = ?"),
                # The audit log keeps what happened, no longer to whom or by whom.
                ("audit_actor", "UPDATE audit_log SET actor = NULL WHERE actor = ?"),
                ("audit_target", "UPDATE audit_log SET target = NULL WHERE target = ?"),
                # A concern stays for review (and as a count), no longer linked to who sent it.
                ("reports", "UPDATE reports SET reporter = NULL WHERE reporter = ?"),
                ("interest", "DELETE FROM interest WHERE user_id = ?"),
                # How welcome they felt stays as a count, no longer linked to them.
                ("feedback", "UPDATE feedback SET user_id = NULL WHERE user_id = ?"),
                ("activity_drafts", "DELETE FROM activity_drafts WHERE user_id = ?"),
                ("awaited_answers", "DELETE FROM awaited_answers WHERE user_id = ?"),
                ("sessions", "DELETE FROM sessions WHERE user_id = ?"),
                ("safeguarding_contacts", "DELETE FROM safeguarding_contacts WHERE user_id = ?"),
                (
                    "safeguarding_set_by",
                    "UPDATE safeguarding_contacts SET set_by = NULL WHERE set_by = ?",
                ),
                # The send budget (several instances): a slot taken stays taken (the rate
                # holds), no longer saying for whom; the person's next moment goes.
                ("send_slots", "UPDATE send_slots SET chat_id = 0 WHERE chat_id = ?"),
                ("send_chats", "DELETE FROM send_chats WHERE chat_id = ?"),
                ("users", "DELETE FROM users WHERE id = ?"),
            ):
                async with conn.execute(sql, (user_id,)) as cur:
                    done[table] = cur.rowcount
        return done

    async def purge_orphan_chats(self, before: datetime) -> int:
        """Delivery status of private chats with no user row, untouched since ``before``."""
        async with self._db.conn.execute(
            "DELETE FROM chat_status WHERE chat_id > 0 AND updated_at < ? "
            "AND chat_id NOT IN (SELECT id FROM users)",
            (to_db(before),),
        ) as cur:
            return cur.rowcount
