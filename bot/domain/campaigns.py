"""Campaign calls: who receives one, and its life (launch, pause, resume, cancel, finish).

A call's audience is fixed when it launches: the subscribers to one of its topics whose area
settings match its area at that moment. Its messages then go through the outbox like every
bulk message; a paused call's renderer raises ``Held`` so nothing more leaves.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from bot.domain.vocabulary import AREA_ORDER, AlertArea, Nation
from bot.places.place import haversine_km
from bot.views.labels import REGION_NATIONS
from storage.alerts import AlertRepository, Subscriber
from storage.campaigns import Campaign, CampaignRepository, Figures
from storage.outbox import CHUNK
from storage.roles import RoleRepository

log = logging.getLogger(__name__)
NATIONS = frozenset(n.value for n in Nation)
UK = "uk"
NEAR = "near"
URL_LIMIT = 500  # characters (Telegram allows more; an action link never needs them)
_BIT = {area: 1 << i for i, area in enumerate(AREA_ORDER)}


def valid_action_url(text: str) -> str | None:
    """The URL when it is a plain https link to a named host, else None."""
    url = text.strip()
    if not url or len(url) > URL_LIMIT or any(c.isspace() for c in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    host = parts.hostname or ""
    if parts.scheme != "https" or "." not in host or parts.username or parts.password:
        return None
    return url


def choose_audience(
    campaign: Campaign,
    subscribers: Iterable[Subscriber],
    region_at: Callable[[float, float], str],
) -> list[int]:
    """The people a call goes to (subscribers already share one of its topics)."""
    chosen: list[int] = []
    for person in subscribers:
        if not person.topics & campaign.topics:
            continue
        if campaign.area == UK:
            wanted = bool(person.areas & _BIT[AlertArea.UK])
        elif person.area_lat is None or person.area_lon is None:
            wanted = False  # nation and nearby calls need a saved area
        elif campaign.area in NATIONS:
            wanted = bool(person.areas & _BIT[AlertArea.NATION]) and (
                REGION_NATIONS.get(region_at(person.area_lat, person.area_lon)) == campaign.area
            )
        elif campaign.area == NEAR and campaign.area_lat is not None:
            assert campaign.area_lon is not None
            wanted = bool(person.areas & _BIT[AlertArea.NEAR]) and (
                haversine_km(person.area_lat, person.area_lon, campaign.area_lat, campaign.area_lon)
                <= campaign.radius_km
            )
        else:
            wanted = False
        if wanted:
            chosen.append(person.user_id)
    return chosen


RATE_WINDOW_S = 60.0  # the current rate: what was sent in the last minute


async def time_left(
    campaigns: CampaignRepository,
    campaign: Campaign,
    figures: Figures,
    limit_per_s: float,
    now: datetime,
) -> float | None:
    """Seconds a sending call still needs to reach everyone at the rate its messages left
    in the last minute (the sender's limit until it has been sending a while); None when
    it is not sending or nothing is left."""
    if campaign.state != "sending" or not figures.pending or campaign.launched_at is None:
        return None
    window = min(RATE_WINDOW_S, (now - campaign.launched_at).total_seconds())
    rate = 0.0
    if window >= 10:
        sent = await campaigns.sent_since(campaign.id, now - timedelta(seconds=window))
        rate = sent / window
    return figures.pending / (rate or limit_per_s)


class CampaignDesk:
    """What coordinators do to calls, each step guarded in storage and written to the audit log."""

    def __init__(
        self,
        campaigns: CampaignRepository,
        alerts: AlertRepository,
        roles: RoleRepository,
        region_at: Callable[[float, float], str],
        now: Callable[[], datetime],
        wake: Callable[[], None],
    ) -> None:
        self.campaigns = campaigns
        self.alerts = alerts
        self.roles = roles
        self.region_at = region_at
        self.now = now
        self.wake = wake

    async def confirm(self, campaign_id: int, actor: int) -> str | None:
        """A draft is confirmed: scheduled, or launched now; the new state (None: not a draft)."""
        campaign = await self.campaigns.get(campaign_id)
        if campaign is None or campaign.state != "draft":
            return None
        now = self.now()
        if campaign.send_at is not None and campaign.send_at > now:
            if not await self.campaigns.transition(campaign_id, ("draft",), "scheduled", now):
                return None
            await self.roles.log(actor, "campaign_schedule", detail=str(campaign_id), now=now)
            return "scheduled"
        if await self._launch(campaign, "draft") is None:
            return None
        await self.roles.log(actor, "campaign_send", detail=str(campaign_id), now=now)
        return "sending"

    async def _launch(self, campaign: Campaign, from_state: str) -> int | None:
        if not await self.campaigns.start_launch(campaign.id, self.now(), from_state):
            return None
        queued = await self._queue(campaign, 0, None)
        log.info("campaign %d launched to %d recipients", campaign.id, queued)
        return queued

    async def _queue(self, campaign: Campaign, after: int, since_before: datetime | None) -> int:
        """Queue the call to its audience, a chunk of subscribers (by user id, after
        ``after``) at a time, each in a short transaction, yielding in between: a call to
        350,000 people never holds the database or the event loop for long, and an
        interrupted launch carries on from its last chunk (``launch_due``)."""
        queued = 0
        while page := await self.alerts.subscribers(
            campaign.topics, after=after, limit=CHUNK, since_before=since_before
        ):
            audience = choose_audience(campaign, page, self.region_at)
            after = page[-1].user_id
            queued += await self.campaigns.queue_chunk(campaign.id, audience, after, self.now())
            self.wake()
            await asyncio.sleep(0)
        await self.campaigns.end_launch(campaign.id)
        return queued

    async def launch_due(self) -> int:
        """Launch scheduled calls whose time has come, and finish launches a crash
        interrupted (the planner job); rows queued."""
        queued = 0
        for campaign_id, until in await self.campaigns.launching():
            campaign = await self.campaigns.get(campaign_id)
            if campaign is not None:
                log.info("campaign %d: queueing the rest of its audience", campaign_id)
                queued += await self._queue(campaign, until, campaign.launched_at)
        for campaign_id in await self.campaigns.due(self.now()):
            campaign = await self.campaigns.get(campaign_id)
            if campaign is not None:
                queued += await self._launch(campaign, "scheduled") or 0
        return queued

    async def finish(self) -> list[int]:
        """Calls with nothing left to send become 'sent' (figures kept)."""
        return await self.campaigns.finish_sent(self.now())

    async def pause(self, campaign_id: int, actor: int) -> bool:
        """Stop sending at once (the message in flight, if any, still goes)."""
        done = await self.campaigns.pause(campaign_id, self.now())
        if done:
            await self.roles.log(actor, "campaign_pause", detail=str(campaign_id), now=self.now())
        return done

    async def resume(self, campaign_id: int, actor: int) -> bool:
        """Carry on sending (or wait for the send time again)."""
        state = await self.campaigns.resume(campaign_id, self.now())
        if state is None:
            return False
        await self.roles.log(actor, "campaign_resume", detail=str(campaign_id), now=self.now())
        if state == "scheduled":
            campaign = await self.campaigns.get(campaign_id)
            if campaign is not None and (
                campaign.send_at is None or campaign.send_at <= self.now()
            ):
                await self._launch(campaign, "scheduled")
        self.wake()
        return True

    async def cancel(self, campaign_id: int, actor: int) -> bool:
        """Stop for good."""
        done = await self.campaigns.cancel(campaign_id, self.now())
        if done:
            await self.roles.log(actor, "campaign_cancel", detail=str(campaign_id), now=self.now())
        return done
