"""Supporters: /alerts (topics and areas of campaign calls), /stop alerts, and the answers
to a call ("I did it", "Not for me").

Nobody is subscribed without asking: people who came to support campaigns are subscribed
when they say so at /start (and told how to stop); everyone else, people seeking sanctuary
first, is told plainly what calls are before they can opt in.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler, filters

from bot import callbacks as cb
from bot.context import App, AppContext
from bot.domain.vocabulary import AREA_ORDER, TOPIC_ORDER, AlertArea, Topic
from bot.views import campaigns as cv
from bot.views.common import View
from bot.views.labels import REGION_NATIONS
from handlers.base import answer, expired, send, show
from handlers.privacy import ask_area

ALL_TOPICS = (1 << len(TOPIC_ORDER)) - 1
ALL_AREAS = (1 << len(AREA_ORDER)) - 1
_TOPICS = {t.value: 1 << i for i, t in enumerate(TOPIC_ORDER)}
_AREAS = {a.value: 1 << i for i, a in enumerate(AREA_ORDER)}
assert set(_TOPICS) == {t.value for t in Topic} and set(_AREAS) == {a.value for a in AlertArea}


async def subscribe_supporter(context: AppContext, user_id: int) -> bool:
    """Someone said they came to support campaigns: every topic, every area (once)."""
    alerts = context.services.alerts
    if await alerts.get(user_id) is not None:
        return False
    await alerts.set(user_id, ALL_TOPICS, ALL_AREAS, context.services.now())
    return True


async def _settings_view(context: AppContext, user_id: int, topics: int, areas: int) -> View:
    services = context.services
    user = await services.users.get(user_id)
    nation = place = None
    has_area = False
    if user is not None and user.area_lat is not None and user.area_lon is not None:
        has_area = True
        region = services.locator.gazetteer.region_at(user.area_lat, user.area_lon)
        nation = REGION_NATIONS.get(region)
        place = user.area_label
    return cv.alerts_settings(topics, areas, nation, place, has_area)


async def _has_area(context: AppContext, user_id: int) -> bool:
    user = await context.services.users.get(user_id)
    return user is not None and user.has_area


async def _alerts_view(context: AppContext, user_id: int) -> View:
    """A subscriber's settings, or what calls are for anyone else."""
    sub = await context.services.alerts.get(user_id)
    if sub is None:
        return cv.alerts_explained()
    return await _settings_view(context, user_id, sub.topics, sub.areas)


async def alerts_command(update: Update, context: AppContext) -> None:
    """/alerts: the settings of a subscriber, or what calls are for anyone else."""
    user = update.effective_user
    assert user is not None
    await send(update, await _alerts_view(context, user.id))


async def stop_command(update: Update, context: AppContext) -> None:
    """/stop alerts: no more campaign calls, at once."""
    user = update.effective_user
    assert user is not None
    if [a.lower() for a in context.args or []] != ["alerts"]:
        await send(update, cv.stop_usage())
        return
    await context.services.alerts.stop(user.id)
    await send(update, cv.alerts_stopped())


async def alerts_button(update: Update, context: AppContext) -> None:
    """AL:on, AL:no, AL:off, AL:t:<topic>, AL:a:<area>, and the menu's M:alerts."""
    query = update.callback_query
    assert query is not None and query.from_user is not None
    user_id = query.from_user.id
    alerts = context.services.alerts
    now = context.services.now()
    pressed = cb.parse(query.data)
    if isinstance(pressed, cb.MenuAlerts):
        await answer(query)
        await show(update, await _alerts_view(context, user_id))
        return
    await answer(query)
    if isinstance(pressed, cb.AlertsDeclined):
        await show(update, cv.alerts_declined())
        return
    if isinstance(pressed, cb.AlertsOff):
        await alerts.stop(user_id)
        await show(update, cv.alerts_stopped())
        return
    sub = await alerts.get(user_id)
    if isinstance(pressed, cb.AlertsOn):
        topics, areas = (sub.topics, sub.areas) if sub else (ALL_TOPICS, ALL_AREAS)
    elif sub is None:  # a settings button after /stop alerts: ask again, never assume
        await show(update, cv.alerts_explained())
        return
    elif isinstance(pressed, cb.AlertsTopic):
        topics, areas = sub.topics ^ _TOPICS[pressed.topic], sub.areas
    else:
        assert isinstance(pressed, cb.AlertsArea)
        if pressed.area != AlertArea.UK and not await _has_area(context, user_id):
            await ask_area(update, context)  # these calls need an area: ask, change nothing
            return
        topics, areas = sub.topics, sub.areas ^ _AREAS[pressed.area]
    await alerts.set(user_id, topics, areas, now)
    await show(update, await _settings_view(context, user_id, topics, areas))


async def call_answer(update: Update, context: AppContext) -> None:
    """CA:did:<call> / CA:not:<call>: counted once per person, never shown as who."""
    query = update.callback_query
    assert query is not None and query.from_user is not None
    pressed = cb.parse(query.data)
    assert isinstance(pressed, cb.CallDid | cb.CallNotForMe)
    verb = "did" if isinstance(pressed, cb.CallDid) else "not"
    done = await context.services.campaigns.respond(pressed.campaign, query.from_user.id, verb)
    if done is None:  # not a recipient of this call: a forged or foreign button
        await expired(update, context)
        return
    await answer(query, cv.thanks_did() if verb == "did" else cv.thanks_not())


def register(app: App) -> None:
    """Alert settings and answers to calls (private chats)."""
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("alerts", alerts_command, filters=private))
    app.add_handler(CommandHandler("stop", stop_command, filters=private))
    settings = (cb.AlertsOn, cb.AlertsDeclined, cb.AlertsOff, cb.AlertsTopic, cb.AlertsArea)
    app.add_handlers(cb.handlers(alerts_button, cb.MenuAlerts, *settings))
    app.add_handlers(cb.handlers(call_answer, cb.CallDid, cb.CallNotForMe))
