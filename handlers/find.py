"""Find welcoming activities: a place or a location, results nearest first, filters, cards."""

from __future__ import annotations

import logging
from io import BytesIO

from telegram import InputFile, Update
from telegram.constants import ParseMode
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot import formatting as fmt
from bot import views
from bot.callbacks import Expired, SearchState, positive_id, split, verb_and_id
from bot.context import App, AppContext
from bot.geo import haversine_km, looks_like_postcode, valid_uk_coordinates
from bot.i18n import use_locale
from bot.ics import activity_ics
from handlers.base import answer, expired, send, show
from handlers.groups import group_view
from handlers.privacy import moved_to

log = logging.getLogger(__name__)


async def find_command(update: Update, context: AppContext) -> None:
    """/find: ask for a location or a place."""
    context.session["mode"] = "f"
    await send(update, views.ask_location("f"))


async def menu_find(update: Update, context: AppContext) -> None:
    """M:find asks where; M:near searches the saved area."""
    query = update.callback_query
    assert query is not None and query.from_user is not None
    await answer(query)
    if query.data == "M:near":
        row = await context.services.users.get(query.from_user.id)
        if row is not None and row.area_lat is not None and row.area_lon is not None:
            await show(update, results_view(context, SearchState.at(row.area_lat, row.area_lon)))
            return
    context.session["mode"] = "f"
    await send(update, views.ask_location("f"))


def results_view(context: AppContext, state: SearchState) -> views.View:
    """Search around the state's point and render a page (or nothing-found with groups)."""
    services = context.services
    lat, lon = state.point
    miles = services.config.search_radius_miles
    now = services.now()
    found = services.directory.search(
        lat,
        lon,
        miles * fmt.KM_PER_MILE,
        now,
        state.category,
        state.need_set,
        page=state.page,
        page_size=views.PAGE_SIZE,
    )
    if not found.total:
        return views.no_results(state, miles, services.directory.nearest_groups(lat, lon, 3))
    next_of = {
        hit.activity.id: services.directory.next_occurrence(hit.activity.id, now)
        for hit in found.hits
    }
    return views.results(found, state, miles, next_of)


async def _search(
    update: Update, context: AppContext, lat: float, lon: float, label: str | None
) -> None:
    if context.session.get("mode") == "m":
        await moved_to(update, context, lat, lon, label)
        return
    state = SearchState.at(lat, lon)
    context.session["last_place"] = (state.lat, state.lon, label)
    if context.session.get("mode") == "g":
        await show(update, group_view(context, state.lat, state.lon, 0))
    else:
        await show(update, results_view(context, state))


async def on_location(update: Update, context: AppContext) -> None:
    """A shared location: search there, store nothing."""
    message = update.effective_message
    assert message is not None and message.location is not None
    lat, lon = message.location.latitude, message.location.longitude
    if not valid_uk_coordinates(lat, lon):
        await send(update, views.outside_uk())
        return
    await _search(update, context, lat, lon, None)


async def on_text(update: Update, context: AppContext) -> None:
    """Typed text is a place: a town, city or postcode."""
    message = update.effective_message
    assert message is not None and message.text is not None
    text = message.text
    mode = context.session.get("mode")
    mode = mode if mode in ("g", "m") else "f"
    locator = context.services.locator
    result = locator.locate(text[:200])
    if result.status == "found":
        place = result.places[0]
        await _search(update, context, place.lat, place.lon, place.name)
    elif result.status == "ambiguous":
        choices = [(p.key, p.name, p.region) for p in result.places]
        await send(update, views.choose_place(text, choices, mode))
    elif looks_like_postcode(text) and not context.services.config.outcodes_path:
        await send(update, views.postcodes_unavailable())
    else:
        suggestions = [(p.key, p.name, p.region) for p in result.suggestions]
        await send(update, views.place_not_found(text, suggestions, mode))


async def chose_place(update: Update, context: AppContext) -> None:
    """P:<key>:<mode>: one of several places with the same name, or a suggestion.

    The mode says what the place is for: f find activities, g groups, m the new area.
    """
    query = update.callback_query
    assert query is not None
    try:
        _prefix, fields = split(query.data)
        if len(fields) != 2 or fields[1] not in ("f", "g", "m"):
            raise Expired(query.data or "")
        place = context.services.locator.get(fields[0])
        if place is None:
            raise Expired(fields[0])
    except Expired:
        await expired(update, context)
        return
    await answer(query)
    context.session["mode"] = fields[1]
    await _search(update, context, place.lat, place.lon, place.name)


async def search_button(update: Update, context: AppContext) -> None:
    """S:<state> shows a page of results; C:<state> and N:<state> the filter pickers."""
    query = update.callback_query
    assert query is not None
    try:
        prefix, fields = split(query.data)
        state = SearchState.decode(fields)
    except Expired:
        await expired(update, context)
        return
    await answer(query)
    if prefix == "C":
        await show(update, views.category_picker(state))
    elif prefix == "N":
        await show(update, views.needs_picker(state))
    else:
        await show(update, results_view(context, state))


async def open_card(update: Update, context: AppContext) -> None:
    """A:<id>:<state>: the activity card."""
    query = update.callback_query
    assert query is not None
    try:
        _prefix, fields = split(query.data)
        activity_id = positive_id(fields[0]) if fields else 0
        state = SearchState.decode(fields[1:])
    except Expired:
        await expired(update, context)
        return
    user = update.effective_user
    services = context.services
    reminded = user is not None and await services.reminders.is_subscribed(user.id, activity_id)
    interested = user is not None and await services.safeguarding.is_interested(
        activity_id, user.id
    )
    view = await card_view(context, activity_id, state, reminded, interested)
    if view is None:
        await answer(query, views.expired())
        return
    await answer(query)
    await show(update, view)


async def card_view(
    context: AppContext,
    activity_id: int,
    state: SearchState | None,
    reminded: bool = False,
    interested: bool = False,
) -> views.View | None:
    """The card of a published activity, or None when it is gone (read from the database:
    the directory keeps only what a search needs)."""
    directory = context.services.directory
    activity = await directory.activity(activity_id)
    if activity is None:
        return None
    group = directory.groups[activity.group_id]
    occurrences = directory.next_occurrences(activity_id, context.services.now(), 3)
    km = haversine_km(*state.point, activity.lat, activity.lon) if state else None
    return views.card(activity, group, occurrences, km, state, reminded, interested)


async def card_action(update: Update, context: AppContext) -> None:
    """X:map|ics|en:<id>: a pin, a calendar file, or the card in English."""
    query = update.callback_query
    assert query is not None
    try:
        verb, activity_id = verb_and_id(query.data, ("map", "ics", "en"))
    except Expired:
        await expired(update, context)
        return
    directory = context.services.directory
    activity = await directory.activity(activity_id)
    chat = update.effective_chat
    if activity is None or chat is None:
        await answer(query, views.expired())
        return
    await answer(query)
    group = directory.groups[activity.group_id]
    if verb == "map":
        await chat.send_venue(
            latitude=activity.lat,
            longitude=activity.lon,
            title=activity.venue or activity.title,
            address=", ".join(p for p in (activity.address, activity.postcode) if p) or group.town,
        )
    elif verb == "ics":
        data = activity_ics(activity, group, context.services.now())
        await chat.send_document(
            InputFile(BytesIO(data), filename=f"activity-{activity.id}.ics"),
            caption=fmt.escape(activity.title),
            parse_mode=ParseMode.HTML,
        )
    else:
        with use_locale("en"):
            english = await card_view(context, activity_id, None)
        if english is not None:
            await send(update, views.View(english.text))


def register(app: App) -> None:
    """Commands, messages and buttons of the find journey.

    Order matters: commands are registered by every journey before this module's catch-all
    text handler, which reads any other private text as a place.
    """
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("find", find_command, filters=private))
    app.add_handler(CallbackQueryHandler(menu_find, pattern=r"^M:(find|near)$"))
    app.add_handler(CallbackQueryHandler(chose_place, pattern=r"^P:"))
    app.add_handler(CallbackQueryHandler(search_button, pattern=r"^[SCN]:"))
    app.add_handler(CallbackQueryHandler(open_card, pattern=r"^A:"))
    app.add_handler(CallbackQueryHandler(card_action, pattern=r"^X:"))
    app.add_handler(MessageHandler(private & filters.LOCATION, on_location))


def register_text(app: App) -> None:
    """The catch-all: any other private text is a place (register last)."""
    app.add_handler(
        MessageHandler(filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND, on_text)
    )
