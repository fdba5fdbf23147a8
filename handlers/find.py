"""Find welcoming activities: a place or a location, results nearest first, filters, cards."""

from __future__ import annotations

import logging
from io import BytesIO
from urllib.parse import urlencode

from telegram import InputFile, Update
from telegram.ext import CommandHandler, filters

from bot import callbacks as cb
from bot.callbacks import SearchState
from bot.context import App, AppContext, PlaceGiven
from bot.domain.recurrence import Occurrence
from bot.domain.translations import in_language, titles_in
from bot.domain.vocabulary import Category, PlaceFor
from bot.i18n import current_locale, use_locale
from bot.places.place import Place, haversine_km
from bot.search.directory import Page
from bot.services import Services
from bot.views import cards as cdv
from bot.views import common
from bot.views import find as fv
from bot.views import formatting as fmt
from bot.views import places as plv
from bot.views.common import PAGE_SIZE, View
from bot.views.ics import activity_ics
from handlers import places
from handlers.base import answer, expired, send, show

log = logging.getLogger(__name__)
CATEGORIES = frozenset(c.value for c in Category)


async def find_command(update: Update, context: AppContext) -> None:
    """/find: ask for a location or a place."""
    places.expect_place(context, PlaceFor.ACTIVITIES)
    places.forget_asked_kind(context)
    await send(update, plv.ask_location(PlaceFor.ACTIVITIES))


def near_label(context: AppContext, place: Place) -> str:
    """The place's name in the reader's language, where GeoNames has it ("ليدز")."""
    return context.services.locator.gazetteer.local_name(place, current_locale())


def _label_for(context: AppContext, state: SearchState) -> str | None:
    """The name of the place searched around, when it was a named place (not a pin)."""
    key = places.last_place_key(context, state)
    place = context.services.locator.get(key) if key is not None else None
    return near_label(context, place) if place is not None else None


async def menu_find(update: Update, context: AppContext) -> None:
    """M:find asks where; M:near searches the saved area."""
    query = update.callback_query
    assert query is not None and query.from_user is not None
    await answer(query)
    places.forget_asked_kind(context)
    if cb.MenuNear.matches(query.data):
        row = await context.services.users.get(query.from_user.id)
        if row is not None and row.area_lat is not None and row.area_lon is not None:
            state = SearchState.at(row.area_lat, row.area_lon)
            await show(update, await results_view(context, state, row.area_label or None))
            return
    places.expect_place(context, PlaceFor.ACTIVITIES)
    await send(update, plv.ask_location(PlaceFor.ACTIVITIES))


async def results_view(context: AppContext, state: SearchState, near: str | None = None) -> View:
    """Search around the state's point and render a page (or nothing-found with groups).

    ``near`` names the place searched around; None for a shared location ("near you")."""
    services = context.services
    miles = services.config.search_radius_miles
    found, next_of = await search_page(services, state)
    if not found.total:
        groups = services.directory.nearest_groups(*state.point, 3)
        return fv.no_results(state, miles, groups, near)
    listed = [hit.activity for hit in found.hits]
    titles = await titles_in(services.translations, listed, current_locale())
    return fv.results(found, state, miles, next_of, near, map_url(services, state), titles)


async def search_page(
    services: Services, state: SearchState
) -> tuple[Page, dict[int, Occurrence | None]]:
    """The page of activities a results message shows for ``state``, with their next dates."""
    lat, lon = state.point
    now = services.now()
    with services.metrics.search_seconds.time():
        found = await services.directory.search_ready(
            lat,
            lon,
            services.config.search_radius_miles * fmt.KM_PER_MILE,
            now,
            state.category,
            state.need_set,
            page=state.page,
            page_size=PAGE_SIZE,
        )
    next_of = {
        hit.activity.id: services.directory.next_occurrence(hit.activity.id, now)
        for hit in found.hits
    }
    return found, next_of


def map_url(services: Services, state: SearchState) -> str | None:
    """The Mini App page showing this page of results on a map (in the reader's language),
    or None without a public address. It carries only what the results buttons carry."""
    base = services.config.public_url
    if base is None:
        return None
    page = cb.SearchPage(state).encode()  # the results page's own button code
    return f"{base}/map/?" + urlencode({"s": page, "lang": current_locale()})


async def search_here(update: Update, context: AppContext, given: PlaceGiven) -> None:
    """A place given for finding activities: the first page of what is near it."""
    state = SearchState.at(given.lat, given.lon).with_category(given.category)
    places.remember_last(context, state, given.place)
    near = near_label(context, given.place) if given.place is not None else None
    await show(update, await results_view(context, state, near))


async def chose_place(update: Update, context: AppContext) -> None:
    """P:<key>:<mode>[:<kind>]: one of several places with the same name, or a suggestion.

    The mode says what the place is for (``PlaceFor``: f find activities, g groups, m the new
    area); the kind of activity asked for with the place ("English class in Newport") comes
    along.
    """
    query = update.callback_query
    assert query is not None
    pressed = cb.ChoosePlace.decode(query.data)
    category = pressed.category
    place = context.services.locator.get(pressed.place)
    if place is None or (category is not None and pressed.mode is not PlaceFor.ACTIVITIES):
        await expired(update, context)
        return
    await answer(query)
    places.expect_place(context, pressed.mode)
    await places.hand_over(update, context, place.lat, place.lon, place, category)


async def search_button(update: Update, context: AppContext) -> None:
    """S:<state> shows a page of results; C:<state> and N:<state> the filter pickers."""
    query = update.callback_query
    assert query is not None
    pressed = cb.parse(query.data)
    assert isinstance(pressed, cb.SearchPage | cb.SearchCategories | cb.SearchNeeds)
    state = pressed.search
    await answer(query)
    if isinstance(pressed, cb.SearchCategories):
        await show(update, fv.category_picker(state))
    elif isinstance(pressed, cb.SearchNeeds):
        await show(update, fv.needs_picker(state))
    else:
        await show(update, await results_view(context, state, _label_for(context, state)))


async def open_card(update: Update, context: AppContext) -> None:
    """A:<id>:<state>: the activity card."""
    query = update.callback_query
    assert query is not None
    pressed = cb.OpenCard.decode(query.data)
    view = await personal_card(update, context, pressed.activity, pressed.search)
    if view is None:
        await answer(query, common.expired())
        return
    await answer(query)
    await show(update, view)


async def personal_card(
    update: Update, context: AppContext, activity_id: int, state: SearchState | None
) -> View | None:
    """The card as this person sees it: their reminder, their interest, their own "Report a
    concern"; None when the activity is not shown."""
    user = update.effective_user
    return await card_for(context.services, activity_id, state, user.id if user else None)


async def card_for(
    services: Services, activity_id: int, state: SearchState | None, user_id: int | None
) -> View | None:
    """The card as ``user_id`` sees it (their reminder, interest and report buttons), or None
    when the activity is gone."""
    reminded = interested = False
    mark = ""
    if user_id is not None:
        reminded = await services.reminders.is_subscribed(user_id, activity_id)
        interested = await services.safeguarding.is_interested(activity_id, user_id)
        mark = services.concerns.mark(user_id, activity_id)
    return await card_view(services, activity_id, state, reminded, interested, mark)


async def card_view(
    services: Services,
    activity_id: int,
    state: SearchState | None,
    reminded: bool = False,
    interested: bool = False,
    report_mark: str = "",
) -> View | None:
    """The card of a published activity, or None when it is gone (read from the database:
    the directory keeps only what a search needs)."""
    directory = services.directory
    activity = await directory.activity(activity_id)
    if activity is None:
        return None
    group = directory.groups[activity.group_id]
    occurrences = directory.next_occurrences(activity_id, services.now(), 3)
    km = haversine_km(*state.point, activity.lat, activity.lon) if state else None
    translations = services.translations
    loc = (await in_language(translations, [activity], current_locale()))[activity.id]
    return cdv.card(
        loc.activity, group, occurrences, km, state, reminded, interested, report_mark, loc.note
    )


async def card_action(update: Update, context: AppContext) -> None:
    """X:map|ics|en:<id>: a pin, a calendar file, or the card in English."""
    query = update.callback_query
    assert query is not None
    pressed = cb.parse(query.data)
    assert isinstance(pressed, cb.CardMap | cb.CardCalendar | cb.CardInEnglish)
    activity_id = pressed.activity
    directory = context.services.directory
    activity = await directory.activity(activity_id)
    chat = update.effective_chat
    if activity is None or chat is None:
        await answer(query, common.expired())
        return
    await answer(query)
    group = directory.groups[activity.group_id]
    if isinstance(pressed, cb.CardMap):
        await chat.send_venue(
            latitude=activity.lat,
            longitude=activity.lon,
            title=activity.venue or activity.title,
            address=", ".join(p for p in (activity.address, activity.postcode) if p) or group.town,
        )
    elif isinstance(pressed, cb.CardCalendar):
        data = activity_ics(activity, group, context.services.now())
        await chat.send_document(
            InputFile(BytesIO(data), filename=f"activity-{activity.id}.ics"),
            caption=fmt.escape(activity.title),  # HTML, as the bot's Defaults say
        )
    else:
        with use_locale("en"):
            english = await card_view(context.services, activity_id, None)
        if english is not None:
            await send(update, View(english.text))


def register(app: App) -> None:
    """Commands, messages and buttons of the find journey.

    Places given for finding activities come to ``search_here`` (handlers.places reads them).
    """
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("find", find_command, filters=private))
    app.add_handlers(cb.handlers(menu_find, cb.MenuFind, cb.MenuNear))
    app.add_handlers(cb.handlers(chose_place, cb.ChoosePlace))
    app.add_handlers(cb.handlers(search_button, cb.SearchPage, cb.SearchCategories, cb.SearchNeeds))
    app.add_handlers(cb.handlers(open_card, cb.OpenCard))
    app.add_handlers(cb.handlers(card_action, cb.CardMap, cb.CardCalendar, cb.CardInEnglish))
    places.take(app, PlaceFor.ACTIVITIES, search_here)
