"""How each kind of outbox row becomes a message, at send time, in the recipient's language."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.config import Config
from bot.delivery.outbox import RECIPIENT, Held, Renderer
from bot.domain.recurrence import Occurrence, zone
from bot.domain.translations import in_language, titles_in
from bot.i18n import current_locale, gettext, use_locale
from bot.search.directory import Directory, Hit
from bot.views import formatting as fmt
from bot.views.admin import weekly_post
from bot.views.campaigns import call_message
from bot.views.common import View
from bot.views.posting import change_message, feedback_question, still_running
from bot.views.privacy import stay_question
from bot.views.reminders import digest_message, reminder_message
from bot.views.safeguarding import concern_notice
from storage.campaigns import CampaignRepository
from storage.models import User
from storage.outbox import OutboxRow
from storage.translations import TranslationRepository
from storage.users import UserRepository

DIGEST_SIZE = 8  # activities in one digest
WEEKLY_SIZE = 25  # occurrences in one group chat's weekly post
# nearest activities looked at to find those of the coming week: a few, then more if needed
DIGEST_LOOK_AT = (2 * DIGEST_SIZE, 40)


async def notice(row: OutboxRow) -> View | None:
    """``{"message": msgid, "args": {...}}``: a marked (N_) message translated when sent.

    Arguments are escaped: they may come from people (activity titles, group names).
    """
    message = row.payload.get("message")
    if not isinstance(message, str) or not message:
        return None
    args = row.payload.get("args") or {}
    safe = {str(k): fmt.bidi(fmt.escape(str(v))) for k, v in dict(args).items()}
    return View(gettext(message).format(**safe))


async def concern(row: OutboxRow) -> View | None:
    """To a group's safeguarding contact and admins: a concern was reported (never by whom)."""
    p = row.payload
    return concern_notice(
        str(p.get("title", "")),
        str(p.get("group", "")),
        str(p.get("reason", "")),
        bool(p.get("hidden")),
    )


async def change(row: OutboxRow) -> View | None:
    """To people who asked for reminders: an activity changed, lost a date, paused or stopped."""
    p = row.payload
    start = datetime.fromisoformat(str(p["start"])) if p.get("start") else None
    return change_message(str(p.get("title", "")), str(p.get("what", "")), start,
                          str(p.get("tz") or "Europe/London"))  # fmt: skip


async def fresh(row: OutboxRow) -> View | None:
    """To an organiser: is it still running?"""
    return still_running(int(row.payload.get("activity_id", 0)), str(row.payload.get("title", "")))


async def feedback(row: OutboxRow) -> View | None:
    """After an occurrence: how welcome did you feel?"""
    p = row.payload
    return feedback_question(int(p.get("activity_id", 0)), str(p.get("title", "")))


def build_renderers(
    directory: Directory,
    now: Callable[[], datetime],
    users: UserRepository,
    config: Config,
    campaigns: CampaignRepository,
    translations: TranslationRepository | None = None,
) -> dict[str, Renderer]:
    """A renderer for every kind of outbox row: the running bot and ``deliver`` both send with
    these, so neither can leave a kind out (reminders and digests need the directory as it is
    when they are sent)."""

    async def reminder(row: OutboxRow) -> View | None:
        """A reminder of one occurrence, or its cancellation if it was cancelled since."""
        assert directory is not None
        activity = await directory.activity(int(row.payload.get("activity_id", 0)))
        start = datetime.fromisoformat(str(row.payload.get("start")))
        if activity is None or start <= now():
            return None  # unpublished, or already started: nothing useful to say
        group = directory.groups[activity.group_id]
        cancelled = start.astimezone(zone(group.timezone)).date() in activity.skips
        loc = (await in_language(translations, [activity], current_locale()))[activity.id]
        return reminder_message(loc.activity, group, start, cancelled, loc.note)

    async def recipient(row: OutboxRow) -> User | None:
        """The person the row goes to: as the sender just read them, else from the database."""
        user = RECIPIENT.get()
        return user if user is not None and user.id == row.chat_id else await users.get(row.chat_id)

    async def digest(row: OutboxRow) -> View | None:
        """The coming week's activities near the reader's saved area, nearest first."""
        user = await recipient(row)
        if user is None or user.area_lat is None or user.area_lon is None:
            return None  # the area was forgotten since: nothing to send
        moment = now()
        week_end = moment + timedelta(days=7)
        listed: list[tuple[Hit, Occurrence]] = []
        for look_at in DIGEST_LOOK_AT:
            # the nearest few first (most take place every week); further only if needed
            found = await directory.search_ready(
                user.area_lat,
                user.area_lon,
                config.search_radius_miles * fmt.KM_PER_MILE,
                moment,
                page_size=look_at,
            )
            await asyncio.sleep(0)  # a search in a city is the longest step: others go first
            listed = []
            for hit in found.hits:
                nxt = directory.next_occurrence(hit.activity.id, moment)
                if nxt is not None and nxt.start < week_end:
                    listed.append((hit, nxt))
            if len(listed) >= DIGEST_SIZE or len(found.hits) < look_at:
                break
        if not listed:
            return None
        listed = listed[:DIGEST_SIZE]
        titles = await titles_in(
            translations, [hit.activity for hit, _nxt in listed], current_locale()
        )
        return digest_message(user.area_label, listed, titles)

    async def stay(row: OutboxRow) -> View | None:
        """After a year of silence: shall I keep your settings? (unless they wrote since)"""
        user = await recipient(row)
        if user is None or user.retention_asked_at is None:
            return None
        return stay_question()

    async def weekly(row: OutboxRow) -> View | None:
        """A group chat's week: its group's activities of the next 7 days, in date order."""
        group = directory.groups.get(int(row.payload.get("group_id", 0)))
        if group is None:
            return None
        moment = now()
        week_end = moment + timedelta(days=7)
        listed = []
        for activity in await directory.activities_of_group(group.id):
            for occurrence in directory.next_occurrences(activity.id, moment, 7):
                if occurrence.start >= week_end:
                    break
                listed.append((occurrence, activity))
        if not listed:
            return None
        listed.sort(key=lambda item: (item[0].start, item[1].title))
        with use_locale(str(row.payload.get("locale") or "en")):
            return weekly_post(group, listed[:WEEKLY_SIZE])

    async def campaign(row: OutboxRow) -> View | None:
        """A campaign call in the reader's language; held while the call is paused."""
        campaign_id = int(row.payload.get("campaign_id", 0))
        found = await campaigns.get(campaign_id)
        if found is None:
            return None
        if found.state != "sending":
            raise Held(found.state)
        return call_message(found, current_locale(), campaign_id)

    return {
        "notice": notice,
        "concern": concern,
        "change": change,
        "fresh": fresh,
        "feedback": feedback,
        "campaign": campaign,
        "stay": stay,
        "reminder": reminder,
        "weekly": weekly,
        "digest": digest,
    }
