"""Asking where to look, and which place was meant: choices, suggestions, places not found."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from telegram import KeyboardButton, ReplyKeyboardMarkup

from bot import callbacks as cb
from bot.domain.vocabulary import Category, PlaceFor
from bot.i18n import N_, gettext
from bot.views import formatting as fmt
from bot.views.common import View, button
from bot.views.keyboard import Key, Keyboard

_ = gettext

REGION_LABELS = {
    "ENG": N_("England"),
    "SCT": N_("Scotland"),
    "WLS": N_("Wales"),
    "NIR": N_("Northern Ireland"),
}


def share_location_keyboard() -> ReplyKeyboardMarkup:
    """One button that shares the person's location (hidden once used)."""
    return ReplyKeyboardMarkup(
        [[KeyboardButton(_("📍 Share my location"), request_location=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


def ask_location(mode: PlaceFor) -> View:
    """Ask for a location: a button that shares it, or typing a place."""
    if mode is PlaceFor.GROUPS:
        first = _("Where should I look for City of Sanctuary groups?")
    else:
        first = _("Where should I look for welcoming activities?")
    text = "\n".join(
        [
            first,
            _("Tap the button below to share your location, or type a town, city or postcode."),
            _("Your location is only used for this search."),
        ]
    )
    return View(text, share_location_keyboard())


def place_label(name: str, region: str) -> str:
    """A place with its nation, e.g. ``Bangor, Wales``."""
    label = REGION_LABELS.get(region)
    return _("{place}, {region}").format(place=name, region=gettext(label)) if label else name


@dataclass(frozen=True, slots=True)
class PlaceChoice:
    """A place offered on a button: its name in the reader's language, its nation, and for
    one of several same-named places in one nation, a better-known place near it (in the
    reader's language) and how far that is."""

    key: str
    name: str
    region: str
    landmark: str | None = None
    km: float = 0.0


def _place_buttons(places: list[PlaceChoice], data: Callable[[str], cb.Button]) -> list[list[Key]]:
    """One button a place: its name and nation, or, for one of several same-named places in
    one nation (those given a landmark), what tells it apart ("Newport, 6.9 mi from Telford")."""
    rows = []
    for place in places:
        if place.landmark:
            label = _("{place}, {distance} from {town}").format(
                place=fmt.bidi(place.name),
                distance=fmt.bidi(fmt.distance(place.km)),
                town=fmt.bidi(place.landmark),
            )
        else:
            label = place_label(place.name, place.region)
        rows.append([button(label, data(place.key))])
    return rows


def choose_place(
    query: str, places: list[PlaceChoice], mode: PlaceFor, category: str | None = None
) -> View:
    """Which one do you mean? (the kind of activity asked for comes along on the buttons)"""
    text = _("Which “{place}” do you mean?").format(
        place=fmt.bidi(fmt.escape(fmt.clean(query, 60)))
    )
    kind = Category(category) if category else None
    return View(text, Keyboard(_place_buttons(places, lambda key: cb.ChoosePlace(key, mode, kind))))


def place_not_found(query: str, suggestions: list[PlaceChoice], mode: PlaceFor) -> View:
    """I couldn't find it; maybe one of these."""
    shown = fmt.escape(fmt.clean(query, 60))
    if shown:
        lines = [_("I couldn't find “{place}”.").format(place=fmt.bidi(shown))]
    else:
        lines = [_("I didn't understand that.")]
    rows = []
    if suggestions:
        lines.append(_("Did you mean one of these?"))
        rows = _place_buttons(suggestions[:3], lambda key: cb.ChoosePlace(key, mode))
    lines.append(_("Type a town, city or postcode, or share your location."))
    rows.append([button(_("⬅️ Menu"), cb.MenuShow())])
    return View("\n".join(lines), Keyboard(rows))


def postcodes_unavailable() -> View:
    """A postcode was typed but no postcode data is loaded."""
    return View(
        _(
            "I can't look up postcodes at the moment. Please type a town or city, or share your location."
        )
    )


def outside_uk() -> View:
    """A location outside the UK."""
    return View(
        _(
            "That location is outside the UK. This bot knows City of Sanctuary groups in the UK only."
        )
    )
