"""Safeguarding's rules: who is told about a concern, when reports hide an activity, who may
review them and what a review does, who may be a group's safeguarding contact, and the mark
that makes a card's "Report a concern" its reader's own.

A concern tells the group's safeguarding contact and admins at once (through the outbox,
never directly); three open reports from different people, each using the bot for a day at
least, hide the activity until someone reviews it. A person has one open report an activity
(storage keeps it so). Reporters are anonymous to organisers. Permissions are read from the
roles table every time; the handler refuses and audits when they are missing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from bot.callbacks import check_signature, signature
from bot.search.directory import Directory
from storage.activities import ActivityRepository
from storage.models import Activity
from storage.outbox import OutboxItem, OutboxRepository
from storage.roles import Role, RoleRepository
from storage.safeguarding import Report, SafeguardingRepository

HIDE_AFTER = 3  # open reports from different people that hide an activity
SETTLED_AFTER = timedelta(days=1)  # a younger account's reports are reviewed, never hide


@dataclass(frozen=True, slots=True)
class Reported:
    """What reporting a concern did."""

    report_id: int | None  # None: this person had already reported this activity
    hidden: bool = False  # the activity is hidden from /find until someone reviews it
    told: str | None = None  # "contact", "admins", "coordinators", or None: nobody could be


class OpenConcern(NamedTuple):
    """An activity with open concerns, as its reviewers see it (no reporters)."""

    activity_id: int
    title: str
    group: str
    hidden: bool
    reports: list[Report]


class Concerns:
    """Reporting concerns, telling and reviewing, and choosing a group's safeguarding contact."""

    def __init__(
        self,
        safeguarding: SafeguardingRepository,
        activities: ActivityRepository,
        roles: RoleRepository,
        outbox: OutboxRepository,
        directory: Directory,
        now: Callable[[], datetime],
        wake: Callable[[], None],
        button_key: bytes,
    ) -> None:
        self.safeguarding = safeguarding
        self.activities = activities
        self.roles = roles
        self.outbox = outbox
        self.directory = directory
        self.now = now
        self._wake = wake
        self._button_key = button_key

    def mark(self, user_id: int, activity_id: int) -> str:
        """What a card's "Report a concern" carries: only the person it was shown to can
        report that activity with it (forged or borrowed data is refused)."""
        return signature(self._button_key, "report", user_id, activity_id)

    def check_mark(self, mark: str, user_id: int, activity_id: int) -> None:
        """Raise Expired unless ``mark`` was made for this person and activity."""
        check_signature(self._button_key, mark, "report", user_id, activity_id)

    async def report(self, activity_id: int, reporter: int, reason: str) -> Reported | None:
        """File a concern (once a person and activity), hide the activity when it is the
        HIDE_AFTER-th open one from settled accounts, and tell its reviewers. None: the
        activity no longer exists."""
        if await self.activities.get(activity_id) is None:
            return None
        now = self.now()
        filed = await self.safeguarding.file(
            activity_id, reporter, reason, now, settled_before=now - SETTLED_AFTER
        )
        if filed.report_id is None:
            return Reported(None)
        hidden = False
        if filed.open_reports >= HIDE_AFTER:
            hidden = await self.activities.set_status(
                activity_id, "hidden", self.now(), only_from=("published",)
            )
            if hidden:
                await self.directory.refresh(force=True)
        told = await self._tell_reviewers(activity_id, reason, hidden, filed.report_id)
        return Reported(filed.report_id, hidden, told)

    async def _tell_reviewers(
        self, activity_id: int, reason: str, hidden: bool, report_id: int
    ) -> str | None:
        """Tell the group's safeguarding contact and admins (its admins when it has no contact,
        the network's coordinators when it has neither). Returns who was told: "contact",
        "admins", "coordinators", or None when nobody could be (logged and audited: the
        concern waits in /reports all the same)."""
        activity = await self.activities.get(activity_id)
        if activity is None:
            return None
        group = self.directory.groups.get(activity.group_id)
        contact = await self.safeguarding.contact(activity.group_id)
        told, people = await self.roles.looking_after(activity.group_id)
        if contact is not None:  # the contact, and the admins (if any)
            admins = people if told == "admins" else set()
            told, people = "contact", {contact.user_id} | admins
        if told is None:
            await self.roles.nobody_told(
                activity.group_id, f"report:{report_id}", "/reports", self.now()
            )
            return None
        payload = {
            "title": activity.title,
            "group": group.name if group else "",
            "reason": reason,
            "hidden": hidden,
        }
        subject = f"report:{report_id}:{'hidden' if hidden else 'new'}"
        await self.outbox.enqueue(
            [OutboxItem("concern", subject, person, payload) for person in sorted(people)],
            self.now(),
        )
        self._wake()
        return told

    async def reviewable(self, user_id: int) -> set[int] | None:
        """The groups whose reports the person may review (those they run as an admin and
        those they are the safeguarding contact of); None for every group (a coordinator)."""
        groups = await self.roles.managed_groups(user_id)
        if groups is None:
            return None
        return groups | set(await self.safeguarding.contact_of(user_id))

    async def open_concerns(self, groups: set[int] | None) -> list[OpenConcern]:
        """The activities of these groups (every group: None) with open reports."""
        by_activity: dict[int, list[Report]] = {}
        for report in await self.safeguarding.open_reports():
            by_activity.setdefault(report.activity_id, []).append(report)
        items = []
        for activity_id, reports in by_activity.items():
            activity = await self.activities.get(activity_id)
            if activity is None or (groups is not None and activity.group_id not in groups):
                continue
            group = self.directory.groups.get(activity.group_id)
            hidden = activity_id not in self.directory.activities
            items.append(
                OpenConcern(
                    activity_id, activity.title, group.name if group else "", hidden, reports
                )
            )
        return items

    async def review(self, activity: Activity, outcome: str, actor: int) -> None:
        """A reviewer's decision: "restored" shows a hidden activity again, "removed" cancels
        it; its open reports are closed and the decision audited."""
        now = self.now()
        if outcome == "restored":
            await self.activities.set_status(activity.id, "published", now, ("hidden",))
        else:
            await self.activities.set_status(activity.id, "cancelled", now)
        await self.safeguarding.review(activity.id, outcome, now)
        await self.roles.log(
            actor, f"report_{outcome}", group_id=activity.group_id,
            detail=str(activity.id), now=now,
        )  # fmt: skip
        await self.directory.refresh(force=True)

    async def choose_contact(self, group_id: int, user_id: int, actor: int) -> Role | None:
        """Make a member of the group's team its safeguarding contact (audited); None when
        the person is not in the team (the caller's right to choose is checked before)."""
        member = next((m for m in await self.roles.members(group_id) if m.user_id == user_id), None)
        if member is None:
            return None
        now = self.now()
        await self.safeguarding.set_contact(group_id, user_id, member.label, actor, now)
        await self.roles.log(
            actor, "safeguarding_contact", target=user_id, group_id=group_id, now=now
        )
        return member
