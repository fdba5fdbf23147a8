"""Typed text is a place: read a place from what a person sends and hand it to the journey
that asked for one.

Any private text that no question is waiting for is read here as a place: a town, city or
postcode; a kind of activity and a place ("English class in Leeds"); a town and its postcode
district ("Leeds LS6"). A shared pin is a place too, and so is a choice among same-named
places (the ``P:`` buttons, parsed in handlers.find). A greeting, thanks or asking for help,
in any of the bot's languages, is not a place.

What the place is for (``PlaceFor``) is kept in the person's session (in the database
between two updates, so the next may go to another instance: ``bot.context.remembered``):
finding activities unless a journey asked for something else. Each journey that takes places registers what it
does with one (``take``): find (activities), groups, and "I've moved" (the new area). This
module imports none of them, so none of them imports another for it. The states and what
ends them are in docs/conversations.md.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from telegram import Update
from telegram.ext import MessageHandler, filters

from bot.callbacks import SearchState
from bot.context import Action, App, AppContext, KeepOpen, PlaceGiven, PlaceTaker
from bot.domain.vocabulary import PlaceFor
from bot.i18n import current_locale
from bot.places import words
from bot.places.gazetteer import Locator
from bot.places.place import LocateResult, Place, valid_uk_coordinates
from bot.places.postcodes import looks_like_postcode
from bot.views import places as plv
from handlers.base import send
from handlers.menus import help_view, menu_view

# The person's session keys: what the next place is for; a kind of activity asked for before
# any place ("English classes", then where?); the last place searched (rounded to 0.01°).
_PLACE_FOR = "place_for"
_KIND = "kind"
_LAST_PLACE = "last_place"


def place_for(context: AppContext) -> PlaceFor:
    """What the next place the person gives is for (finding activities unless asked)."""
    purpose = context.session.get(_PLACE_FOR)
    try:
        return PlaceFor(purpose) if isinstance(purpose, str) else PlaceFor.ACTIVITIES
    except ValueError:  # written by another version
        return PlaceFor.ACTIVITIES


def _asked(purpose: PlaceFor) -> str:
    """The name under which this update asking for a place is noted (``asked_now``)."""
    return f"place:{purpose.value}"


def expect_place(context: AppContext, purpose: PlaceFor) -> None:
    """The next place the person gives is for ``purpose``."""
    context.session[_PLACE_FOR] = purpose
    context.asked_now.add(_asked(purpose))


def forget_asked_kind(context: AppContext) -> None:
    """A new search starts: the kind of activity asked for before a place no longer holds."""
    context.session.pop(_KIND, None)


def remember_last(context: AppContext, state: SearchState, place: Place | None) -> None:
    """The named place just searched around, so that later pages of its results can name it
    (a shared pin has no name: nothing of it is kept)."""
    if place is None:
        context.session.pop(_LAST_PLACE, None)
        return
    context.session[_LAST_PLACE] = (state.lat, state.lon, place.name, place.key)


def last_place_key(context: AppContext, state: SearchState) -> str | None:
    """The key of the named place last searched, if ``state`` searches around it."""
    last = context.session.get(_LAST_PLACE)
    if isinstance(last, tuple) and len(last) == 4 and last[:2] == (state.lat, state.lon):
        return str(last[3]) if last[3] is not None else None
    return None


def take(
    app: App,
    purpose: PlaceFor,
    taker: PlaceTaker,
    *,
    once: bool = False,
    keep_open: KeepOpen | None = None,
) -> None:
    """Register what a journey does with a place given for ``purpose``.

    ``once``: the purpose lasts for one place, then places are for finding activities again.
    ``keep_open``: the actions that are part of giving the place; any other action gives the
    purpose up (the next place finds activities), unless the same update asked for it.
    """
    app.bot_data.place_takers[purpose] = taker
    if once:
        app.bot_data.place_once.add(purpose)
    if keep_open is None:
        return

    async def give_up(context: AppContext, user_id: int, action: Action) -> None:
        # The session of this update's person (a forgotten person's is empty by now)
        session = context.session
        if (
            session.get(_PLACE_FOR) == purpose
            and action not in keep_open
            and _asked(purpose) not in context.asked_now
        ):
            session[_PLACE_FOR] = PlaceFor.ACTIVITIES

    app.bot_data.give_up_on_action.append(give_up)


async def hand_over(
    update: Update,
    context: AppContext,
    lat: float,
    lon: float,
    place: Place | None,
    category: str | None = None,
) -> None:
    """Give a place to the journey it is for, with the kind of activity asked for with it
    or, before it, on its own ("English classes", then "Leeds")."""
    asked_kind = context.session.pop(_KIND, None)
    purpose = place_for(context)
    if purpose in context.bot_data.place_once:
        context.session[_PLACE_FOR] = PlaceFor.ACTIVITIES
    takers = context.bot_data.place_takers
    taker = takers.get(purpose) or takers[PlaceFor.ACTIVITIES]
    await taker(update, context, PlaceGiven(lat, lon, place, category or asked_kind))


def place_choices(context: AppContext, places: Sequence[Place]) -> list[plv.PlaceChoice]:
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
            plv.PlaceChoice(
                place.key,
                gazetteer.local_name(place, language),
                place.region,
                gazetteer.local_name(landmark[0], language) if landmark else None,
                landmark[1] if landmark else 0.0,
            )
        )
    return choices


async def on_location(update: Update, context: AppContext) -> None:
    """A shared location: a place for what the next place is for; nothing stored here."""
    message = update.effective_message
    assert message is not None and message.location is not None
    lat, lon = message.location.latitude, message.location.longitude
    if not valid_uk_coordinates(lat, lon):
        await send(update, plv.outside_uk())
        return
    await hand_over(update, context, lat, lon, None)


def understand(locator: Locator, text: str) -> tuple[LocateResult, words.Wanted | None]:
    """The place a text names (typed places and inline mode read it alike), and what else it
    asks for when it is not a place alone: a kind of activity, a town with its postcode."""
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
    purpose = place_for(context)
    greeting = words.said(text)
    if greeting is not None:  # they turned to the menu: the next place is a plain search
        context.session[_PLACE_FOR] = PlaceFor.ACTIVITIES
        forget_asked_kind(context)
    if greeting == "help":
        await send(update, await help_view(update, context))
        return
    if greeting == "hello":
        await send(update, await menu_view(update, context))
        return
    result, asked = understand(context.services.locator, text)
    category = None
    if asked is not None and purpose is PlaceFor.ACTIVITIES:
        category = asked.category
        if category is not None and not asked.place:  # "English classes": where, then?
            context.session[_KIND] = category
            await send(update, plv.ask_location(PlaceFor.ACTIVITIES))
            return
    if result.status == "found":
        place = result.places[0]
        await hand_over(update, context, place.lat, place.lon, place, category)
    elif result.status == "ambiguous":
        choices = place_choices(context, result.places)
        await send(update, plv.choose_place(text, choices, purpose, category))
    elif looks_like_postcode(text) and not context.services.config.outcodes_path:
        await send(update, plv.postcodes_unavailable())
    else:
        suggestions = place_choices(context, result.suggestions)
        await send(update, plv.place_not_found(text, suggestions, purpose))


def register(app: App) -> None:
    """The catch-alls, registered after every journey: a private location, and any other
    private text, is a place."""
    private = filters.ChatType.PRIVATE
    app.add_handler(MessageHandler(private & filters.LOCATION, on_location))
    app.add_handler(MessageHandler(private & filters.TEXT & ~filters.COMMAND, on_text))
