"""What volunteers and admins do to activities, with the permission checks, the audit log and
the messages each change sends (through the outbox, never directly).

Permissions are read from the roles table every time: a removed volunteer's old button, or a
volunteer of another group, gets False and the caller refuses and audits.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from bot.domain.posting import FIRST_POSTS_MODERATED, missing, to_activity, upcoming
from bot.domain.recurrence import zone
from bot.domain.translations import original_of
from bot.search.directory import Directory
from bot.views import formatting as fmt
from bot.views.posting import (
    NOTICE_APPROVED,
    NOTICE_CHANGES,
    NOTICE_PENDING,
    NOTICE_REJECTED,
    NOTICE_STALE,
)
from storage.activities import ActivityRepository
from storage.drafts import Draft, DraftRepository
from storage.feedback import FeedbackRepository
from storage.models import Activity, Group
from storage.outbox import OutboxItem, OutboxRepository
from storage.reminders import ReminderRepository
from storage.roles import ADMIN, COORDINATOR, NETWORK, VOLUNTEER, Role, RoleRepository
from storage.translations import FIELDS, Translation, TranslationRepository

log = logging.getLogger(__name__)
ASK_AFTER = timedelta(days=30)  # unconfirmed this long: "still running?"
HIDE_AFTER = timedelta(days=14)  # unanswered this long: hidden from /find
FEEDBACK_AFTER = timedelta(hours=2)  # after an occurrence ends, ask how welcome it felt
FEEDBACK_WITHIN = timedelta(days=60)  # interest older than this with no occurrence: not asked


@dataclass(frozen=True, slots=True)
class Published:
    """What publishing a draft did."""

    activity_id: int
    title: str
    pending: bool
    told: str | None = None  # who was asked to check it: "admins", "coordinators" or nobody


class Organiser:
    """Posting, editing, moderating and keeping activities fresh."""

    def __init__(
        self,
        activities: ActivityRepository,
        drafts: DraftRepository,
        roles: RoleRepository,
        reminders: ReminderRepository,
        outbox: OutboxRepository,
        feedback: FeedbackRepository,
        directory: Directory,
        now: Callable[[], datetime],
        wake: Callable[[], None],
        translations: TranslationRepository | None = None,
    ) -> None:
        self.activities = activities
        self.drafts = drafts
        self.roles = roles
        self.reminders = reminders
        self.outbox = outbox
        self.feedback = feedback
        self.directory = directory
        self.now = now
        self._wake = wake
        self.translations = translations

    # -- who may do what ------------------------------------------------------------------------

    async def posting_groups(self, user_id: int) -> list[int] | None:
        """The groups the person volunteers in or runs (they may post for these); None for
        every group (a network coordinator)."""
        roles = await self.roles.roles_of(user_id)
        if any(r.role == COORDINATOR for r in roles):
            return None
        return sorted({r.group_id for r in roles if r.role in (ADMIN, VOLUNTEER)})

    async def may_post(self, user_id: int, group_id: int) -> bool:
        """Whether the person may post for the group (read now, every time)."""
        groups = await self.posting_groups(user_id)
        return groups is None or group_id in groups

    async def would_wait(
        self, user_id: int, group_id: int, roles: list[Role] | None = None
    ) -> bool:
        """Whether a post (or a change) by the person would wait for an admin: a volunteer's
        until their first posts were approved; never a group admin's or a coordinator's."""
        if roles is None:
            roles = await self.roles.roles_of(user_id)
        if any(
            r.role == COORDINATOR or (r.role == ADMIN and r.group_id == group_id) for r in roles
        ):
            return False
        return await self.activities.approved_count(user_id, group_id) < FIRST_POSTS_MODERATED

    async def may_edit(self, user_id: int, activity: Activity) -> bool:
        """Its group's admins and coordinators; its author while still in that group."""
        roles = await self.roles.roles_of(user_id)
        for r in roles:
            if r.role == COORDINATOR or (r.role == ADMIN and r.group_id == activity.group_id):
                return True
            if (
                r.role == VOLUNTEER
                and r.group_id == activity.group_id
                and activity.created_by == user_id
            ):
                return True
        return False

    async def manageable(self, user_id: int) -> list[Activity]:
        """What /myactivities lists: the person's posts and their groups' activities."""
        roles = await self.roles.roles_of(user_id)
        runs = [r.group_id for r in roles if r.role == ADMIN]
        return await self.activities.manageable(user_id, runs)

    async def refused(self, user_id: int, what: str, group_id: int | None) -> None:
        """Write a refusal to the audit log."""
        await self.roles.log(user_id, "refused", group_id=group_id, detail=what, now=self.now())

    # -- publishing and editing -----------------------------------------------------------------

    async def publish(self, draft: Draft, group: Group) -> Published | None:
        """Create the activity from a complete draft; None when the person may no longer post.

        Admins publish directly; a volunteer's first posts wait for an admin (who is told).
        """
        user_id = draft.user_id
        roles = await self.roles.roles_of(user_id)
        in_group = {r.role for r in roles if r.group_id in (group.id, NETWORK)}
        if not in_group & {ADMIN, VOLUNTEER, COORDINATOR} or missing(draft.data):
            await self.refused(user_id, "publish", group.id)
            return None
        now = self.now()
        pending = await self.would_wait(user_id, group.id, roles)
        item = to_activity(draft.data, group)
        activity_id = await self.activities.create(
            item, group.id, user_id, "pending" if pending else "published", now
        )
        skips = [datetime.fromisoformat(d).date() for d in draft.data.get("skips", [])]
        if skips:
            await self.activities.set_skips(activity_id, skips, now)
        await self.drafts.delete(user_id)
        await self.roles.log(
            user_id, "activity_pending" if pending else "activity_published",
            group_id=group.id, detail=str(activity_id), now=now,
        )  # fmt: skip
        told = None
        if pending:
            told = await self._tell_moderators(group, activity_id, item.title)
        else:
            await self.directory.refresh(force=True)
        return Published(activity_id, item.title, pending, told)

    async def _tell_moderators(self, group: Group, activity_id: int, title: str) -> str | None:
        """Ask the group's admins (the network's coordinators when it has none) to check a
        post; returns who: "admins", "coordinators", or None when nobody could be asked (then
        logged and audited: it waits in /moderate all the same)."""
        told, people = await self.roles.looking_after(group.id)
        if told is None:
            await self.roles.nobody_told(group.id, f"post:{activity_id}", "/moderate", self.now())
            return None
        args = {"title": title, "group": group.name}
        subject = (
            f"moderate:{activity_id}:{self.now().isoformat()}"  # again after each resubmission
        )
        await self._notice(people, NOTICE_PENDING, args, subject)
        return told

    async def _notice(
        self, people: set[int], message: str, args: dict[str, Any], subject: str
    ) -> None:
        if not people:
            return
        payload = {"message": message, "args": args}
        await self.outbox.enqueue(
            [OutboxItem("notice", subject, p, payload) for p in sorted(people)], self.now()
        )
        self._wake()

    async def apply_edit(
        self, draft: Draft, activity: Activity, group: Group, *, in_chat: bool = True
    ) -> tuple[Literal["saved", "checked"], str | None] | None:
        """Write an edited part to the activity; None when the person may no longer edit it.

        "saved": people who asked for reminders are told. "checked": the editor's posts still
        wait for an admin, so a published activity goes back to them (hidden until approved)
        and they are told (who: the second value, as ``Published.told``); the reminded hear
        about the change once it is approved. ``in_chat``: the draft was the chat's (it is
        done with); the desk's edit is made from a form, and a post the person is writing in
        the chat stays.
        """
        if not await self.may_edit(draft.user_id, activity) or missing(draft.data):
            await self.refused(draft.user_id, "edit", activity.group_id)
            return None
        now = self.now()
        item = to_activity(draft.data, group)
        recheck = activity.status == "published" and await self.would_wait(
            draft.user_id, activity.group_id
        )
        await self.activities.update(activity.id, item, now)
        if draft.section == "when":
            skips = [datetime.fromisoformat(d).date() for d in draft.data.get("skips", [])]
            await self.activities.set_skips(activity.id, skips, now)
        if recheck:
            await self.activities.recheck(activity.id, now)
        if in_chat:
            await self.drafts.delete(draft.user_id)
        await self.roles.log(
            draft.user_id, "activity_edited", group_id=activity.group_id,
            detail=f"{activity.id}:{draft.section}" + (":recheck" if recheck else ""), now=now,
        )  # fmt: skip
        await self.directory.refresh(force=True)
        if recheck:
            return "checked", await self._tell_moderators(group, activity.id, item.title)
        if activity.status == "published":
            await self._tell_reminded(activity, group, "changed", now)
        return "saved", None

    async def _tell_reminded(
        self,
        activity: Activity,
        group: Group,
        what: str,
        now: datetime,
        start: datetime | None = None,
    ) -> int:
        """The change notice to everyone who asked for reminders about the activity."""
        people = {s.user_id for s in await self.reminders.for_activities([activity.id])}
        if not people:
            return 0
        payload = {
            "title": activity.title,
            "what": what,
            "start": start.isoformat() if start else None,
            "tz": group.timezone,
        }
        subject = f"change:{activity.id}:{what}:{now.isoformat()}"
        added = await self.outbox.enqueue(
            [OutboxItem("change", subject, p, payload) for p in sorted(people)], now
        )
        self._wake()
        return added

    # -- managing -------------------------------------------------------------------------------

    async def cancel_date(
        self, user_id: int, activity: Activity, group: Group, start: datetime
    ) -> bool:
        """Cancel one occurrence (it must be one of the next ones) and tell the reminded."""
        now = self.now()
        starts = upcoming(activity, group.timezone, now, 12)
        if start not in starts or not activity.rrule:
            return False
        day = start.astimezone(zone(group.timezone)).date()
        if not await self.activities.add_skip(activity.id, day, now):
            return False
        await self.roles.log(
            user_id, "date_cancelled", group_id=activity.group_id,
            detail=f"{activity.id}:{day.isoformat()}", now=now,
        )  # fmt: skip
        await self.directory.refresh(force=True)
        await self._tell_reminded(activity, group, "date", now, start)
        return True

    async def set_paused(self, user_id: int, activity: Activity, group: Group, on: bool) -> bool:
        """Pause the whole series (gone from /find, no reminders) or resume it."""
        now = self.now()
        if activity.status != "published" or not await self.activities.set_paused(
            activity.id, on, now
        ):
            return False
        await self.roles.log(
            user_id, "activity_paused" if on else "activity_resumed",
            group_id=activity.group_id, detail=str(activity.id), now=now,
        )  # fmt: skip
        await self.directory.refresh(force=True)
        await self._tell_reminded(activity, group, "paused" if on else "resumed", now)
        return True

    async def cancel(self, user_id: int | None, activity: Activity, group: Group) -> bool:
        """Cancel the activity for good; people who asked for reminders are told."""
        now = self.now()
        if not await self.activities.set_status(
            activity.id, "cancelled", now, ("draft", "pending", "published", "hidden")
        ):
            return False
        await self.roles.log(
            user_id, "activity_cancelled", group_id=activity.group_id,
            detail=str(activity.id), now=now,
        )  # fmt: skip
        await self.directory.refresh(force=True)
        if activity.status == "published":
            await self._tell_reminded(activity, group, "cancelled", now)
        return True

    async def confirm(self, user_id: int, activity: Activity) -> bool:
        """ "Still running": fresh for another 30 days, and shown again if it was hidden."""
        now = self.now()
        if not await self.activities.confirm(activity.id, now):
            return False
        await self.roles.log(
            user_id, "activity_confirmed", group_id=activity.group_id,
            detail=str(activity.id), now=now,
        )  # fmt: skip
        if activity.stale_since is not None:
            await self.directory.refresh(force=True)
        return True

    async def resubmit(self, user_id: int, activity: Activity, group: Group) -> bool:
        """Changes made: back to the moderation queue."""
        if not await self.activities.resubmit(activity.id, self.now()):
            return False
        await self._tell_moderators(group, activity.id, activity.title)
        return True

    # -- translations ---------------------------------------------------------------------------

    async def translate(
        self, user_id: int, activity: Activity, group: Group, lang: str, field: str, text: str
    ) -> Literal["saved", "pending"] | None:
        """Save one translated field; None when the person may no longer edit the activity.

        The same rules as their text: a volunteer whose posts still wait for an admin saves a
        pending translation, and a published activity goes back to the admins (as an edit
        does); approving it shows the translation."""
        if self.translations is None or not await self.may_edit(user_id, activity):
            await self.refused(user_id, "translate", activity.group_id)
            return None
        now = self.now()
        wait = await self.would_wait(user_id, activity.group_id)
        status = "pending" if wait else "published"
        item = Translation(activity.id, lang, field, text, original_of(activity, field), status)
        await self.translations.save([item], now)
        await self.roles.log(
            user_id, "activity_translated", group_id=activity.group_id,
            detail=f"{activity.id}:{lang}:{field}" + (":recheck" if wait else ""), now=now,
        )  # fmt: skip
        if wait and await self.activities.recheck(activity.id, now):
            await self.directory.refresh(force=True)
            await self._tell_moderators(group, activity.id, activity.title)
        return "pending" if wait else "saved"

    async def confirm_translation(self, user_id: int, activity: Activity, lang: str) -> bool:
        """An organiser says a translation still says what the changed original says."""
        if self.translations is None or not await self.may_edit(user_id, activity):
            await self.refused(user_id, "translate", activity.group_id)
            return False
        now = self.now()
        originals = {field: original_of(activity, field) for field in FIELDS}
        done = await self.translations.confirm(activity.id, lang, originals, now) > 0
        if done:
            await self.roles.log(
                user_id, "translation_confirmed", group_id=activity.group_id,
                detail=f"{activity.id}:{lang}", now=now,
            )  # fmt: skip
        return done

    # -- moderation -----------------------------------------------------------------------------

    async def moderate(
        self, user_id: int, activity: Activity, outcome: str, note: str | None
    ) -> bool:
        """Approve, ask for changes or reject a pending post; its author is told."""
        now = self.now()
        if not await self.activities.moderate(activity.id, outcome, note, now):
            return False
        await self.roles.log(
            user_id, f"moderation_{outcome}", target=activity.created_by,
            group_id=activity.group_id, detail=str(activity.id), now=now,
        )  # fmt: skip
        if outcome == "approve":
            if self.translations is not None:  # a volunteer's translations waited with it
                await self.translations.publish_pending(activity.id, now)
            await self.directory.refresh(force=True)
        group = self.directory.groups.get(activity.group_id)
        if group is not None and outcome in ("approve", "reject"):
            # only a changed activity sent back for a check has people with reminders
            what = "changed" if outcome == "approve" else "cancelled"
            await self._tell_reminded(activity, group, what, now)
        if activity.created_by is not None:
            message = {
                "approve": NOTICE_APPROVED,
                "changes": NOTICE_CHANGES,
                "reject": NOTICE_REJECTED,
            }[outcome]
            args = {"title": activity.title, "note": fmt.inside_sentence(note or "")}
            await self._notice(
                {activity.created_by},
                message,
                args,
                f"moderated:{activity.id}:{outcome}:{now.isoformat()}",
            )
        return True

    # -- scheduled: freshness and feedback ------------------------------------------------------

    async def _owners(self, activity: Activity) -> set[int]:
        """Who answers for an activity: its author while in the group, else the group's admins."""
        members = await self.roles.members(activity.group_id)
        if activity.created_by is not None and any(
            m.user_id == activity.created_by for m in members
        ):
            return {activity.created_by}
        return {m.user_id for m in members if m.role == ADMIN}

    async def keep_fresh(self) -> tuple[int, int]:
        """Ask "still running?" after 30 days; hide after 14 more days without an answer.

        An activity nobody can answer for (imported, no admins) is neither asked nor hidden.
        A one-off that is over drops out of /find on its own and is not asked about.
        Returns (asked, hidden).
        """
        now = self.now()
        asked: list[int] = []
        items: list[OutboxItem] = []
        for activity in await self.activities.unconfirmed(now - ASK_AFTER):
            group = self.directory.groups.get(activity.group_id)
            if group is None or not upcoming(activity, group.timezone, now, 1):
                continue
            people = await self._owners(activity)
            if not people:
                continue
            asked.append(activity.id)
            payload = {"activity_id": activity.id, "title": activity.title}
            subject = f"fresh:{activity.id}:{now.date().isoformat()}"
            items += [OutboxItem("fresh", subject, p, payload) for p in sorted(people)]
        if items:
            await self.outbox.enqueue(items, now)
        await self.activities.mark_asked(asked, now)
        stale = await self.activities.unanswered(now - HIDE_AFTER)
        await self.activities.mark_stale([a.id for a in stale], now)
        for activity in stale:
            await self._notice(
                await self._owners(activity), NOTICE_STALE, {"title": activity.title},
                f"stale:{activity.id}:{now.date().isoformat()}",
            )  # fmt: skip
        if stale:
            await self.directory.refresh(force=True)
        if items:
            self._wake()
        return len(asked), len(stale)

    async def ask_feedback(self) -> int:
        """After the first occurrence someone was interested in, ask how welcome they felt."""
        now = self.now()
        due: list[tuple[int, int]] = []
        items: list[OutboxItem] = []
        for mark in await self.feedback.not_asked():
            schedule = self.directory.schedules.get(mark.activity_id)
            activity = self.directory.activities.get(mark.activity_id)
            if schedule is None or activity is None:
                continue  # not shown now: asked later, if it comes back
            found = schedule.occurrences(mark.since, 1)
            if not found or found[0].end + FEEDBACK_AFTER > now:
                continue
            occurrence = found[0]
            due.append((mark.activity_id, mark.user_id))
            if now - occurrence.end > FEEDBACK_WITHIN:
                continue  # long ago (the bot was down): too late to ask, marked all the same
            payload = {"activity_id": activity.id, "title": activity.title}
            items.append(OutboxItem("feedback", f"feedback:{activity.id}", mark.user_id, payload))
        if items:
            await self.outbox.enqueue(items, now)
            self._wake()
        await self.feedback.mark_asked(due, now)
        return len(items)
