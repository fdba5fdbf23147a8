"""Reviewing reported concerns: show an activity again, or remove it. One place for both
ways in (the bot's /reports buttons and the desk's Review page), so each does the same."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from storage.models import Activity
from storage.safeguarding import Report

if TYPE_CHECKING:
    from bot.services import Services

OUTCOMES = ("restored", "removed")


@dataclass(frozen=True, slots=True)
class OpenConcerns:
    """An activity's concerns not reviewed yet."""

    activity: Activity
    group: str  # the group's name
    hidden: bool  # not shown in search now (hidden after concerns, or otherwise not listed)
    reports: list[Report]


async def open_concerns(services: Services, groups: set[int] | None) -> list[OpenConcerns]:
    """The open concerns about these groups' activities (None: every group), by activity."""
    by_activity: dict[int, list[Report]] = {}
    for report in await services.safeguarding.open_reports():
        by_activity.setdefault(report.activity_id, []).append(report)
    found = []
    for activity_id, reports in by_activity.items():
        activity = await services.activities.get(activity_id)
        if activity is None or (groups is not None and activity.group_id not in groups):
            continue
        group = services.directory.groups.get(activity.group_id)
        hidden = activity_id not in services.directory.activities
        found.append(OpenConcerns(activity, group.name if group else "", hidden, reports))
    return found


async def reviewable_groups(services: Services, user_id: int) -> set[int] | None:
    """The groups whose concerns the person may review (the groups they run, and those they
    are the safeguarding contact of); None for every group (a coordinator)."""
    groups = await services.roles.managed_groups(user_id)
    if groups is None:
        return None
    return groups | set(await services.safeguarding.contact_of(user_id))


async def review(services: Services, user_id: int, activity: Activity, outcome: str) -> None:
    """Close the activity's open concerns: "restored" shows it again (if they hid it),
    "removed" cancels it; audited, and search follows at once."""
    if outcome not in OUTCOMES:
        raise ValueError(outcome)
    now = services.now()
    if outcome == "restored":
        await services.activities.set_status(activity.id, "published", now, ("hidden",))
    else:
        await services.activities.set_status(activity.id, "cancelled", now)
    await services.safeguarding.review(activity.id, outcome, now)
    await services.roles.log(
        user_id, f"report_{outcome}", group_id=activity.group_id, detail=str(activity.id), now=now
    )
    await services.directory.refresh(force=True)
