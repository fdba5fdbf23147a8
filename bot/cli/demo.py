"""The bundled sample data (bot/sample/*.csv): 'seed-demo' and the console demo use it."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from importlib import resources

from bot.domain.importer import parse_activities, parse_groups
from storage.activities import ActivityRepository
from storage.db import Database, utcnow
from storage.groups import GroupRepository
from storage.models import ActivityData


def _sample(name: str) -> str:
    return resources.files("bot").joinpath("sample", name).read_text("utf-8")


def _upcoming(item: ActivityData, now: datetime) -> ActivityData:
    """Move a past one-off event forward by whole weeks, so the demo always has some ahead."""
    if item.rrule is not None or item.starts_at > now:
        return item
    weeks = (now - item.starts_at).days // 7 + 1
    return replace(item, starts_at=item.starts_at + timedelta(weeks=weeks))


async def seed_demo(db: Database) -> tuple[int, int]:
    """Import the sample groups and activities (updating them if present)."""
    groups = parse_groups(_sample("groups.csv"))
    zones = {g.ref: g.timezone for g in groups}
    now = utcnow()
    activities = [_upcoming(a, now) for a in parse_activities(_sample("activities.csv"), zones)]
    async with db.transaction() as conn:
        await GroupRepository.upsert_many(conn, groups)
    refs = await GroupRepository(db).refs()
    async with db.transaction() as conn:
        await ActivityRepository.upsert_many(conn, activities, refs)
    return len(groups), len(activities)
