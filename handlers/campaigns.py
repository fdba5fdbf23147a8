"""Coordinators: /campaign composes a call (title, English text, translations, action link,
topics, area, send time), previews it and sends or schedules it; /campaigns lists calls with
their figures and pauses, resumes, edits or cancels them.

The coordinator role is read from the database on every command and button; a refusal is
answered and audited. The call itself lives in the database from its first answer (a draft),
so a restart loses at most the question being asked: /campaign carries on.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from telegram import Update
from telegram.ext import CommandHandler, filters

from bot import callbacks as cb
from bot.callbacks import Expired
from bot.context import App, AppContext, KeepOpen
from bot.domain.campaigns import choose_audience, time_left, valid_action_url
from bot.domain.recurrence import zone
from bot.domain.vocabulary import TOPIC_ORDER
from bot.i18n import current_locale
from bot.places.place import round_area
from bot.views import campaigns as cv
from bot.views import formatting as fmt
from bot.views.common import View
from bot.views.places import place_label
from handlers.admin import refuse
from handlers.base import answer, expired, send, show
from handlers.questions import TypedQuestion
from storage.awaited import About
from storage.campaigns import Campaign
from storage.roles import COORDINATOR

_TOPICS = {t.value: 1 << i for i, t in enumerate(TOPIC_ORDER)}
# The buttons about one call (each carries the call).
CAMPAIGN_CODES = (
    cb.CampaignField, cb.CampaignTranslations, cb.CampaignTranslate, cb.CampaignTopics,
    cb.CampaignTopic, cb.CampaignAreas, cb.CampaignArea, cb.CampaignWhen, cb.CampaignSendNow,
    cb.CampaignTomorrow, cb.CampaignPreview, cb.CampaignConfirmAsk, cb.CampaignSend,
    cb.CampaignCancelAsk, cb.CampaignCancel, cb.CampaignSummary, cb.CampaignPause,
    cb.CampaignResume,
)  # fmt: skip
_TEXT_FIELDS = {"title": cv.TITLE_LIMIT, "body": cv.BODY_LIMIT}
_WHEN = (
    (re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})[ T]+(\d{1,2})[:.](\d{2})$"), "ymd"),
    (re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4}) +(\d{1,2})[:.](\d{2})$"), "dmy"),
    (re.compile(r"^(\d{1,2})/(\d{1,2}) +(\d{1,2})[:.](\d{2})$"), "dm"),
)


def parse_when(text: str, now: datetime, tz: str = cv.TZ) -> datetime | None:
    """A typed local date and time in the future, as UTC; None when unreadable or past."""
    text = " ".join(text.split())
    for pattern, form in _WHEN:
        match = pattern.match(text)
        if match is None:
            continue
        numbers = [int(g) for g in match.groups()]
        if form == "ymd":
            year, month, day, hour, minute = numbers
        elif form == "dmy":
            day, month, year, hour, minute = numbers
        else:
            day, month, hour, minute = numbers
            year = now.astimezone(zone(tz)).year
        try:
            local = datetime(year, month, day, hour, minute, tzinfo=zone(tz))
        except ValueError:
            return None
        if form == "dm" and local < now:
            try:
                local = local.replace(year=year + 1)
            except ValueError:
                return None
        moment = local.astimezone(now.tzinfo)
        return moment if moment > now else None
    return None


# How many parts each question's subject has: (call id, field), a translation's language too,
# and the body's also the title typed just before.
_STEP_SIZE = {"tr_title": 3, "tr_body": 4}


def _step(about: About | None) -> tuple[Any, ...] | None:
    """What a coordinator's text answers: (call id, field, ...); None if not that shape."""
    if not isinstance(about, tuple) or len(about) < 2:
        return None
    cid, field, *rest = about
    if not isinstance(cid, int) or not isinstance(field, str):
        return None
    if len(about) != _STEP_SIZE.get(field, 2) or not all(isinstance(x, str) for x in rest):
        return None
    return about


class Desk:
    """The /campaign and /campaigns journeys of one application.

    ``composing`` holds who is answering a typed question right now, and what for.
    """

    def __init__(self, app: App) -> None:
        self.composing = TypedQuestion(
            app, "compose", KeepOpen(buttons=cb.family("K"), commands=("cancel",))
        )

    # -- checks -------------------------------------------------------------------------------

    async def _coordinator(self, update: Update, context: AppContext, what: str) -> int | None:
        """The caller's id when they are a coordinator now; else refuse (audited)."""
        user = update.effective_user
        if user is None:
            return None
        roles = await context.services.roles.roles_of(user.id)
        if any(r.role == COORDINATOR for r in roles):
            return user.id
        await self.composing.stop(context, user.id)
        await refuse(update, context, what, None, cv.coordinators_only())
        return None

    # -- commands -------------------------------------------------------------------------------

    async def campaign(self, update: Update, context: AppContext) -> None:
        """/campaign: carry on with the draft, or start one (asking for its title)."""
        user_id = await self._coordinator(update, context, "campaign")
        if user_id is None:
            return
        services = context.services
        draft = await services.campaigns.draft_of(user_id)
        if draft is None:
            draft = await services.campaigns.create(user_id, services.now())
            await self.composing.expect(context, user_id, (draft.id, "title"))
            await send(update, cv.ask_field("title"))
            return
        await self.composing.stop(context, user_id)
        await send(update, cv.compose_summary(draft))

    async def campaigns(self, update: Update, context: AppContext) -> None:
        """/campaigns: the latest calls with their state and figures."""
        if await self._coordinator(update, context, "campaigns") is not None:
            await send(update, await self._list(context))

    async def _list(self, context: AppContext) -> View:
        services = context.services
        repo = services.campaigns
        items = [(c, await repo.figures(c)) for c in await repo.recent()]
        rate, now = services.config.send_rate, services.now()
        left = {c.id: await time_left(repo, c, f, rate, now) for c, f in items}
        return cv.campaign_list(items, {k: v for k, v in left.items() if v is not None})

    async def cancel(self, update: Update, context: AppContext) -> None:
        """/cancel while answering a question: stop asking; the draft stays."""
        user = update.effective_user
        assert user is not None
        await self.composing.stop(context, user.id)
        await send(update, cv.compose_cancelled())

    # -- typed answers --------------------------------------------------------------------------

    async def on_text(self, update: Update, context: AppContext) -> None:
        """The answer to the question asked (title, text, link, place, time, translation)."""
        message = update.effective_message
        assert message is not None and message.text is not None
        user_id = await self._coordinator(update, context, "campaign")
        if user_id is None:
            return
        step = _step(await self.composing.about(context, user_id))
        if step is None:
            await self.composing.stop(context, user_id)
            await send(update, cv.compose_cancelled())
            return
        services = context.services
        campaign = await services.campaigns.get(step[0])
        if campaign is None or campaign.state not in ("draft", "scheduled", "paused"):
            await self.composing.stop(context, user_id)
            await send(update, View(cv.not_editable()))
            return
        error = await self._take(context, campaign, step, message.text)
        if error is not None:  # the question stands, with its buttons
            if step[1] == "when":
                error = View(error.text, cv.when_picker(campaign, services.now()).markup)
            await send(update, error)
            return
        if step[1] == "tr_title":
            await self.composing.expect(
                context, user_id, (campaign.id, "tr_body", step[2], message.text.strip())
            )
            await send(update, cv.ask_translation(fmt.language_name(step[2]), "body"))
            return
        await self.composing.stop(context, user_id)
        fresh = await services.campaigns.get(campaign.id)
        assert fresh is not None
        if step[1] == "title" and not fresh.body:  # a new draft: straight on to the text
            await self.composing.expect(context, user_id, (campaign.id, "body"))
            await send(update, cv.ask_field("body"))
        elif step[1] == "body" and not fresh.action_url:
            await self.composing.expect(context, user_id, (campaign.id, "url"))
            await send(update, cv.ask_field("url"))
        elif step[1] == "url" and not fresh.topics:
            await send(update, cv.topics_picker(fresh))
        else:
            await send(update, cv.compose_summary(fresh))

    async def _take(
        self, context: AppContext, campaign: Campaign, step: tuple[Any, ...], text: str
    ) -> View | None:
        """Validate and store one typed answer; the error to show, or None when stored."""
        services = context.services
        now = services.now()
        repo = services.campaigns
        field = step[1]
        value = text.strip()
        if field in _TEXT_FIELDS or field in ("tr_title", "tr_body"):
            limit = _TEXT_FIELDS.get(field) or (
                cv.TITLE_LIMIT if field == "tr_title" else cv.BODY_LIMIT
            )
            if fmt.typed_length(value) > limit:  # as Telegram counts (an emoji counts two)
                return cv.too_long(limit, fmt.typed_length(value))
            if field in _TEXT_FIELDS:
                await repo.update(campaign.id, now, **{field: value})
            elif field == "tr_body":
                await repo.set_translation(campaign.id, step[2], step[3], value, now)
            return None
        if field == "url":
            url = valid_action_url(value)
            if url is None:
                return cv.bad_url()
            await repo.update(campaign.id, now, action_url=url)
            return None
        if field == "place":
            result = services.locator.locate(value[:200])
            if result.status not in ("found", "ambiguous"):
                return cv.place_unknown()
            place = result.places[0]
            lat, lon = round_area(place.lat, place.lon)
            label = place_label(place.name, place.region)
            await repo.update(
                campaign.id, now, area="near", area_lat=lat, area_lon=lon, area_label=label
            )
            return None
        if field == "when":
            moment = parse_when(value, now)
            if moment is None:
                return cv.bad_when(now)
            await repo.update(campaign.id, now, send_at=moment)
            return None
        raise Expired(field)

    # -- buttons --------------------------------------------------------------------------------

    async def button(self, update: Update, context: AppContext) -> None:
        """A campaign button (bot/callbacks.py: the Campaign… codes): every step re-checks the
        role and the call's state."""
        query = update.callback_query
        assert query is not None
        user_id = await self._coordinator(update, context, "campaign")
        if user_id is None:
            return
        pressed = cb.parse(query.data)
        if isinstance(pressed, cb.CampaignList):
            changed = await show(update, await self._list(context))
            await answer(query, None if changed else cv.list_unchanged())
            return
        assert isinstance(pressed, CAMPAIGN_CODES)
        campaign = await context.services.campaigns.get(pressed.campaign)
        try:
            if campaign is None:
                raise Expired(pressed.prefix)
            await self._act(update, context, user_id, pressed, campaign)
        except Expired:
            await expired(update, context)

    async def _act(
        self,
        update: Update,
        context: AppContext,
        user_id: int,
        pressed: cb.Button,
        campaign: Campaign,
    ) -> None:
        query = update.callback_query
        assert query is not None
        services = context.services
        repo = services.campaigns
        desk = services.desk
        now = services.now()
        cid = campaign.id
        editable = campaign.state in ("draft", "scheduled", "paused")
        before_launch = editable and not campaign.launched
        if isinstance(pressed, cb.CampaignPause):
            await answer(
                query,
                cv.state_label("paused") if await desk.pause(cid, user_id) else cv.not_editable(),
            )
            await show(update, await self._list(context))
        elif isinstance(pressed, cb.CampaignResume):
            await answer(
                query,
                cv.state_label("sending") if await desk.resume(cid, user_id) else cv.not_editable(),
            )
            await show(update, await self._list(context))
        elif isinstance(pressed, cb.CampaignCancelAsk):
            await answer(query)
            if campaign.state == "draft":
                await repo.discard(cid)
                await self.composing.stop(context, user_id)
                await show(update, View(cv.discarded()))
            else:
                await show(update, cv.cancel_confirm(campaign))
        elif isinstance(pressed, cb.CampaignCancel):
            done = await desk.cancel(cid, user_id)
            await answer(query, cv.state_label("cancelled") if done else cv.not_editable())
            await show(update, await self._list(context))
        elif not editable:
            await answer(query, cv.not_editable())
        elif isinstance(pressed, cb.CampaignSummary):
            await answer(query)
            await self.composing.stop(context, user_id)
            await show(update, cv.compose_summary(campaign))
        elif isinstance(pressed, cb.CampaignField):
            await answer(query)
            await self.composing.expect(context, user_id, (cid, pressed.field))
            await send(update, cv.ask_field(pressed.field))
        elif isinstance(pressed, cb.CampaignTranslations):
            await answer(query)
            await show(update, cv.translation_languages(campaign))
        elif isinstance(pressed, cb.CampaignTranslate):
            await answer(query)
            await self.composing.expect(context, user_id, (cid, "tr_title", pressed.language))
            await send(update, cv.ask_translation(fmt.language_name(pressed.language), "title"))
        elif isinstance(pressed, cb.CampaignPreview):
            await answer(query)
            await send(update, View(cv.preview_intro()))
            await send(update, cv.call_message(campaign, current_locale(), cid))
        elif isinstance(pressed, cb.CampaignConfirmAsk) and campaign.state == "draft":
            needed = cv.missing(campaign)
            if needed:
                await answer(query, cv.incomplete(needed))
                return
            await answer(query)
            subscribers = await services.alerts.subscribers(campaign.topics)
            region_at = services.locator.gazetteer.region_at
            audience = len(choose_audience(campaign, subscribers, region_at))
            await show(update, cv.confirm_question(campaign, audience))
        elif isinstance(pressed, cb.CampaignSend) and campaign.state == "draft":
            needed = cv.missing(campaign)
            if needed:
                await answer(query, cv.incomplete(needed))
                return
            state = await desk.confirm(cid, user_id)
            await answer(query, cv.confirmed(state) if state else cv.not_editable())
            if state:
                await show(update, View(cv.confirmed(state)))
        elif not before_launch:
            await answer(query, cv.not_editable())
        elif isinstance(pressed, cb.CampaignTopics):
            await answer(query)
            await show(update, cv.topics_picker(campaign))
        elif isinstance(pressed, cb.CampaignTopic):
            bit = _TOPICS[pressed.topic]
            if campaign.topics == bit:  # the last one: the call would reach nobody
                await answer(query, cv.topic_needed())
                return
            await answer(query)
            await repo.update(cid, now, topics=campaign.topics ^ bit)
            fresh = await repo.get(cid)
            assert fresh is not None
            await show(update, cv.topics_picker(fresh))
        elif isinstance(pressed, cb.CampaignAreas):
            await answer(query)
            await show(update, cv.area_picker(campaign))
        elif isinstance(pressed, cb.CampaignArea):
            await answer(query)
            if pressed.area == "near":
                await self.composing.expect(context, user_id, (cid, "place"))
                await send(update, cv.ask_field("place"))
                return
            await repo.update(
                cid, now, area=pressed.area, area_lat=None, area_lon=None, area_label=None
            )
            await self._summary(update, context, cid)
        elif isinstance(pressed, cb.CampaignWhen):
            await answer(query)
            await show(update, cv.when_picker(campaign, now))
            await self.composing.expect(context, user_id, (cid, "when"))
        elif isinstance(pressed, cb.CampaignSendNow):
            await answer(query)
            await self.composing.stop(context, user_id)
            await repo.update(cid, now, send_at=None)
            await self._summary(update, context, cid)
        elif isinstance(pressed, cb.CampaignTomorrow):
            await answer(query)
            await self.composing.stop(context, user_id)
            local = now.astimezone(zone(cv.TZ)) + timedelta(days=1)
            moment = local.replace(hour=int(pressed.hour), minute=0, second=0, microsecond=0)
            await repo.update(cid, now, send_at=moment.astimezone(now.tzinfo))
            await self._summary(update, context, cid)
        else:
            raise Expired(pressed.prefix)

    async def _summary(self, update: Update, context: AppContext, cid: int) -> None:
        fresh = await context.services.campaigns.get(cid)
        assert fresh is not None
        await show(update, cv.compose_summary(fresh))


def register(app: App) -> None:
    """Coordinator commands and buttons; typed answers go before the places catch-all."""
    desk = Desk(app)
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("campaign", desk.campaign, filters=private))
    app.add_handler(CommandHandler("campaigns", desk.campaigns, filters=private))
    app.add_handler(CommandHandler("cancel", desk.cancel, filters=private & desk.composing.filter))
    app.add_handler(desk.composing.handler(desk.on_text))
    app.add_handlers(cb.handlers(desk.button, cb.CampaignList, *CAMPAIGN_CODES))
