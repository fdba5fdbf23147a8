"""Sharing: "📤 Share" on a card, the links it makes (``a-<id>``, ``g-<ref>``) opened in the
receiver's own language, and inline mode (``@<bot> Leeds`` in any chat)."""

from __future__ import annotations

from telegram import InlineQueryResultArticle, Update
from telegram.ext import InlineQueryHandler

from bot import callbacks as cb
from bot.context import App, AppContext
from bot.domain import deeplinks
from bot.domain.deeplinks import StartLink
from bot.domain.translations import in_language
from bot.i18n import current_locale
from bot.views import formatting as fmt
from bot.views import share as shv
from bot.views.common import View, expired
from handlers.base import answer, send
from handlers.find import near_label, personal_card
from handlers.menus import menu_view
from handlers.places import understand
from storage.models import Activity, Group

INLINE_CACHE_S = 300  # Telegram keeps an answer this long for the same person and text
INLINE_RESULTS = 20  # nearest activities listed (Telegram takes 50 at most)


async def link_view(update: Update, context: AppContext, link: StartLink) -> View:
    """What an ``a-`` or ``g-`` link opens, in the current language: the card, the group's
    page, or kind words and the menu when it is not shown (gone, hidden, never there)."""
    directory = context.services.directory
    if link.kind == "a" and link.activity_id is not None:
        card = await personal_card(update, context, link.activity_id, None)
        if card is not None:
            return card
    elif link.kind == "g":
        group = next((g for g in directory.groups.values() if g.ref == link.value), None)
        if group is not None and group.verified:
            return await group_view(context, group)
    return shv.link_not_found(await menu_view(update, context))


async def group_view(context: AppContext, group: Group) -> View:
    """A group's page: its contacts and its activities that still take place, soonest first
    (titles in the reader's language where translated)."""
    directory = context.services.directory
    now = context.services.now()
    listed = []
    for activity in await directory.activities_of_group(group.id):
        nxt = directory.next_occurrence(activity.id, now)
        if nxt is not None:  # a past one-off is not offered
            listed.append((nxt.start, activity.id, activity, nxt))
    listed.sort(key=lambda item: item[:2])
    texts = await _in_language(context, [activity for _s, _i, activity, _n in listed])
    soonest = [(texts[activity.id], nxt) for _start, _id, activity, nxt in listed]
    return shv.group_page(group, soonest, deeplinks.group_link(context.bot.username, group.ref))


async def share(update: Update, context: AppContext) -> None:
    """X:share:<id>: the card's short form and link, as a message to forward."""
    query = update.callback_query
    assert query is not None
    activity_id = cb.ShareActivity.decode(query.data).activity
    directory = context.services.directory
    activity = await directory.activity(activity_id)
    if activity is None:
        await answer(query, expired())
        return
    await answer(query, shv.share_hint())
    group = directory.groups[activity.group_id]
    activity = (await _in_language(context, [activity]))[activity.id]
    nxt = directory.next_occurrence(activity_id, context.services.now())
    link = deeplinks.activity_link(context.bot.username, activity_id)
    await send(update, shv.shared_activity(activity, group, nxt, link))


async def inline_query(update: Update, context: AppContext) -> None:
    """``@<bot> Leeds`` in any chat: the nearest activities, in the sender's language, each
    ready to send with its link; an empty or unknown place gets a hint (and the bot's link)."""
    query = update.inline_query
    assert query is not None
    services = context.services
    text = query.query.strip()[:200]
    result, asked = understand(services.locator, text) if text else (None, None)
    results: list[InlineQueryResultArticle] = []
    if result is not None and result.status in ("found", "ambiguous"):
        place = result.places[0]  # of several with one name, the best known
        radius = services.config.search_radius_miles
        category = asked.category if asked is not None else None
        found = await services.directory.search_ready(
            place.lat,
            place.lon,
            radius * fmt.KM_PER_MILE,
            services.now(),
            category,
            page_size=INLINE_RESULTS,
        )
        activities = []
        for hit in found.hits:  # the whole activity for its short form: 20 reads at most
            activity = await services.directory.activity(hit.activity.id)
            if activity is not None:  # else taken out since the search
                activities.append((activity, hit))
        texts = await _in_language(context, [activity for activity, _hit in activities])
        for activity, hit in activities:
            nxt = services.directory.next_occurrence(activity.id, services.now())
            link = deeplinks.activity_link(context.bot.username, activity.id)
            shown = texts[activity.id]
            results.append(shv.inline_activity(shown, hit.group, nxt, hit.km, link))
        if not results:
            nothing = shv.nothing_near(radius, near_label(context, place))
            results.append(shv.inline_invitation(_bot_link(context), nothing))
    else:
        results.append(shv.inline_invitation(_bot_link(context)))
    await query.answer(
        results,
        cache_time=INLINE_CACHE_S,
        is_personal=True,  # in the sender's language: never another person's cached answer
        button=shv.inline_hint_button(),
    )


async def _in_language(context: AppContext, activities: list[Activity]) -> dict[int, Activity]:
    """The activities with the texts organisers translated into the current language."""
    found = await in_language(context.services.translations, activities, current_locale())
    return {activity_id: loc.activity for activity_id, loc in found.items()}


def _bot_link(context: AppContext) -> str:
    return f"https://t.me/{context.bot.username}"


def register(app: App) -> None:
    """The Share button and inline mode. The links themselves are opened by /start
    (handlers.start)."""
    app.add_handlers(cb.handlers(share, cb.ShareActivity))
    app.add_handler(InlineQueryHandler(inline_query))
