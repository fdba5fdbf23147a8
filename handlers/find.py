"""Find welcoming activities: a place or a location, results nearest first, filters, cards."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from io import BytesIO

from telegram import InputFile, Update
from telegram.constants import ParseMode
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot import formatting as fmt
from bot import views, words
from bot.callbacks import Expired, SearchState, positive_id, split, verb_and_id
from bot.context import App, AppContext
from bot.domain import Category
from bot.geo import (
    LocateResult,
    Locator,
    Place,
    haversine_km,
    looks_like_postcode,
    valid_uk_coordinates,
)
from bot.i18n import current_locale, use_locale
from bot.ics import activity_ics
from handlers.base import answer, expired, send, show
from handlers.groups import group_view
from handlers.menus import help_view, menu_view
from handlers.privacy import moved_to

log = logging.getLogger(__name__)
CATEGORIES = frozenset(c.value for c in Category)


async def find_command(update: Update, context: AppContext) -> None:
    """/find: ask for a location or a place."""
    context.session["mode"] = "f"
    context.session.pop("kind", None)
    await send(update, views.ask_location("f"))


def near_label(context: AppContext, place: Place) -> str:
    """The place's name in the reader's language, where GeoNames has it ("ليدز")."""
    return context.services.locator.gazetteer.local_name(place, current_locale())


def _label_for(context: AppContext, state: SearchState) -> str | None:
    """The name of the place searched around, when it was a named place (not a pin)."""
    last = context.session.get("last_place")
    if isinstance(last, tuple) and len(last) == 4 and last[:2] == (state.lat, state.lon):
        place = context.services.locator.get(last[3])
        if place is not None:
            return near_label(context, place)
    return None


def place_choices(context: AppContext, places: Sequence[Place]) -> list[views.PlaceChoice]:
    """Places to choose from, each with what tells it apart from a same-named one: the
    better-known place near it and how far that is."""
    gazetteer = context.services.locator.gazetteer
    language = current_locale()
    same = Counter((p.name, p.region) for p in places)
    choices = []
    for place in places:
        landmark = None
        if same[place.name, place.region] > 1 and gazetteer.get(place.key) is not None:
            landmark = gazetteer.landmark(place)
        choices.append(
            views.PlaceChoice(
                place.key,
                gazetteer.local_name(place, language),
                place.region,
                gazetteer.local_name(landmark[0], language) if landmark else None,
                landmark[1] if landmark else 0.0,
            )
        )
    return choices


async def menu_find(update: Update, context: AppContext) -> None:
    """M:find asks where; M:near searches the saved area."""
    query = update.callback_query
    assert query is not None and query.from_user is not None
    await answer(query)
    context.session.pop("kind", None)
    if query.data == "M:near":
        row = await context.services.users.get(query.from_user.id)
        if row is not None and row.area_lat is not None and row.area_lon is not None:
            state = SearchState.at(row.area_lat, row.area_lon)
            await show(update, results_view(context, state, row.area_label or None))
            return
    context.session["mode"] = "f"
    await send(update, views.ask_location("f"))


def results_view(context: AppContext, state: SearchState, near: str | None = None) -> views.View:
    """Search around the state's point and render a page (or nothing-found with groups).

    ``near`` names the place searched around; None for a shared location ("near you")."""
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
        groups = services.directory.nearest_groups(lat, lon, 3)
        return views.no_results(state, miles, groups, near)
    next_of = {
        hit.activity.id: services.directory.next_occurrence(hit.activity.id, now)
        for hit in found.hits
    }
    return views.results(found, state, miles, next_of, near)


async def _search(
    update: Update,
    context: AppContext,
    lat: float,
    lon: float,
    place: Place | None,
    category: str | None = None,
) -> None:
    label = place.name if place is not None else None
    asked = context.session.pop("kind", None)  # "English classes", then where
    if context.session.get("mode") == "m":
        await moved_to(update, context, lat, lon, label)
        return
    state = SearchState.at(lat, lon).with_category(category or asked)
    key = place.key if place is not None else None
    context.session["last_place"] = (state.lat, state.lon, label, key)
    if context.session.get("mode") == "g":
        await show(update, group_view(context, state.lat, state.lon, 0))
    else:
        near = near_label(context, place) if place is not None else None
        await show(update, results_view(context, state, near))


async def on_location(update: Update, context: AppContext) -> None:
    """A shared location: search there, store nothing."""
    message = update.effective_message
    assert message is not None and message.location is not None
    lat, lon = message.location.latitude, message.location.longitude
    if not valid_uk_coordinates(lat, lon):
        await send(update, views.outside_uk())
        return
    await _search(update, context, lat, lon, None)


def understand(locator: Locator, text: str) -> tuple[LocateResult, words.Wanted | None]:
    """The place a text names (/find and inline mode read it alike), and what else it asks
    for when it is not a place alone: a kind of activity, a town with its postcode."""
    result = locator.locate(text)
    asked = None
    if result.status == "not_found" and (asked := words.wanted(text)) is not None and asked.place:
        found = locator.locate(asked.place)
        if found.status == "not_found" and asked.town:
            found = locator.locate(asked.town)  # no postcode data: the town then
        if found.status in ("found", "ambiguous"):
            result = found
    return result, asked


async def on_text(update: Update, context: AppContext) -> None:
    """Typed text is a place: a town, city or postcode; or a kind of activity and a place
    ("English class in Leeds"), a town and its postcode district ("Leeds LS6"). A greeting,
    thanks or asking for help (in any of the bot's languages) is not a place."""
    message = update.effective_message
    assert message is not None and message.text is not None
    text = message.text[:200]
    mode = context.session.get("mode")
    mode = mode if mode in ("g", "m") else "f"
    greeting = words.said(text)
    if greeting is not None:  # they turned to the menu: the next place is a plain search
        context.session["mode"] = "f"
        context.session.pop("kind", None)
    if greeting == "help":
        await send(update, await help_view(update, context))
        return
    if greeting == "hello":
        await send(update, await menu_view(update, context))
        return
    result, asked = understand(context.services.locator, text)
    category = asked.category if asked is not None and mode == "f" else None
    if asked is not None and category is not None and not asked.place:  # where, then?
        context.session["kind"] = category  # "English classes"
        await send(update, views.ask_location("f"))
        return
    if result.status == "found":
        place = result.places[0]
        await _search(update, context, place.lat, place.lon, place, category)
    elif result.status == "ambiguous":
        choices = place_choices(context, result.places)
        await send(update, views.choose_place(text, choices, mode, category))
    elif looks_like_postcode(text) and not context.services.config.outcodes_path:
        await send(update, views.postcodes_unavailable())
    else:
        suggestions = place_choices(context, result.suggestions)
        await send(update, views.place_not_found(text, suggestions, mode))


async def chose_place(update: Update, context: AppContext) -> None:
    """P:<key>:<mode>[:<kind>]: one of several places with the same name, or a suggestion.

    The mode says what the place is for: f find activities, g groups, m the new area; the
    kind of activity asked for with the place ("English class in Newport") comes along.
    """
    query = update.callback_query
    assert query is not None
    try:
        _prefix, fields = split(query.data)
        if len(fields) not in (2, 3) or fields[1] not in ("f", "g", "m"):
            raise Expired(query.data or "")
        category = fields[2] if len(fields) == 3 else None
        if category is not None and (fields[1] != "f" or category not in CATEGORIES):
            raise Expired(query.data or "")
        place = context.services.locator.get(fields[0])
        if place is None:
            raise Expired(fields[0])
    except Expired:
        await expired(update, context)
        return
    await answer(query)
    context.session["mode"] = fields[1]
    await _search(update, context, place.lat, place.lon, place, category)


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
        await show(update, results_view(context, state, _label_for(context, state)))


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
    view = await personal_card(update, context, activity_id, state)
    if view is None:
        await answer(query, views.expired())
        return
    await answer(query)
    await show(update, view)


async def personal_card(
    update: Update, context: AppContext, activity_id: int, state: SearchState | None
) -> views.View | None:
    """The card as this person sees it: their reminder, their interest, their own "Report a
    concern"; None when the activity is not shown."""
    user = update.effective_user
    services = context.services
    reminded = user is not None and await services.reminders.is_subscribed(user.id, activity_id)
    interested = user is not None and await services.safeguarding.is_interested(
        activity_id, user.id
    )
    mark = services.report_mark(user.id, activity_id) if user is not None else ""
    return card_view(context, activity_id, state, reminded, interested, mark)


def card_view(
    context: AppContext,
    activity_id: int,
    state: SearchState | None,
    reminded: bool = False,
    interested: bool = False,
    report_mark: str = "",
) -> views.View | None:
    """The card of a published activity, or None when it is gone."""
    directory = context.services.directory
    activity = directory.activities.get(activity_id)
    if activity is None:
        return None
    group = directory.groups[activity.group_id]
    occurrences = directory.next_occurrences(activity_id, context.services.now(), 3)
    km = haversine_km(*state.point, activity.lat, activity.lon) if state else None
    return views.card(activity, group, occurrences, km, state, reminded, interested, report_mark)


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
    activity = directory.activities.get(activity_id)
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
            english = card_view(context, activity_id, None)
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
