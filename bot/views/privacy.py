"""Privacy and data rights: what is kept, /mydata, /forget, "still here?", saved areas and
"I've moved"."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot import callbacks as cb
from bot.callbacks import SearchState
from bot.i18n import gettext, ngettext
from bot.places.place import AREA_KM
from bot.search.directory import GroupHit, Listing
from bot.views import formatting as fmt
from bot.views.common import View, button, row
from bot.views.groups import group_lines
from bot.views.keyboard import Keyboard
from bot.views.labels import INTENT_LABELS
from bot.views.places import share_location_keyboard

_ = gettext


def _area_rounding() -> str:
    """How finely a saved area is kept, as a distance in the reader's unit and digits."""
    return fmt.bidi(fmt.distance(AREA_KM))


def privacy(has_area: bool, attributions: list[str]) -> View:
    """What the bot keeps, who sees it, how long, and how to get it or delete it."""
    lines = [
        _("<b>Your privacy</b>"),
        _(
            "I keep only: your Telegram account ID (not your phone number) to answer you, your language, what brought you here, your settings, the day you last wrote, and your area if you choose to save it (rounded to about {distance})."
        ).format(distance=_area_rounding()),
        _("If you ask for reminders, I keep which activities they are for, until you stop them."),
        _("I never ask your name, nationality, immigration status or address."),
        _("When you share your location, I use it for that search only and do not store it."),
        _("Groups see no names: only how many people are interested."),
        _("If you join a group's team as a volunteer, its admins see your Telegram first name."),
        _("Only the people who run this bot can see what I keep. We do not share it."),
        _(
            "If you do not write for 12 months, I ask if you want to keep using this bot. With no answer in 30 days, I delete everything."
        ),
        _("/mydata sends you a copy of it all. /forget deletes it all."),
    ]
    if has_area:
        lines.append(_("You have saved an area. You can forget it with the button below."))
    lines.append("")
    lines.append("<i>" + fmt.escape(" · ".join(attributions)) + "</i>")
    rows = []
    if has_area:
        rows.append([button(_("🗑 Forget my area"), cb.ForgetArea())])
    rows.append(
        row(button(_("📦 My data"), cb.MyData()), button(_("🗑 Delete everything"), cb.ForgetAsk()))
    )
    rows.append([button(_("⬅️ Menu"), cb.MenuShow())])
    return View("\n".join(lines), Keyboard(rows))


def area_saved(label: str | None) -> View:
    """Confirmation that the area is saved, and how to forget it."""
    place = fmt.bidi(fmt.escape(label)) if label else _("this area")
    text = "\n".join(
        [
            _("💾 Saved: {place}. I keep it rounded to about {distance}.").format(
                place=place, distance=_area_rounding()
            ),
            _("You can forget it at any time in /privacy."),
        ]
    )
    return View(text, Keyboard([[button(_("⬅️ Menu"), cb.MenuShow())]]))


def area_forgotten() -> View:
    """Confirmation that the saved area is gone."""
    return View(
        _("🗑 Your saved area is forgotten."),
        Keyboard([[button(_("⬅️ Menu"), cb.MenuShow())]]),
    )


def my_data(
    language: str,
    intent: str | None,
    area_label: str | None,
    has_area: bool,
    reminders: int,
    since: datetime | None,
) -> View:
    """A short readable summary of what is kept (the JSON file follows)."""
    lines = ["<b>" + _("📦 What I keep about you") + "</b>", ""]
    lines.append(_("Language: {language}").format(language=fmt.bidi(language)))
    if intent in INTENT_LABELS:
        answer = gettext(INTENT_LABELS[intent])
        lines.append(_("What brought you here: {answer}").format(answer=answer))
    if has_area:
        place = fmt.bidi(fmt.escape(area_label)) if area_label else _("my area")
        lines.append(_("Saved area: {place}").format(place=place))
    else:
        lines.append(_("No saved area."))
    lines.append(
        ngettext(
            "Reminders for {count} activity.", "Reminders for {count} activities.", reminders
        ).format(count=fmt.number(reminders))
    )
    if since is not None:
        lines.append(
            _("You first wrote on {date}.").format(
                date=fmt.bidi(fmt.full_date(since, "Europe/London"))
            )
        )
    lines += ["", _("The file below has all of it. To delete everything: /forget")]
    return View("\n".join(lines))


def nothing_kept() -> View:
    """/mydata for someone the bot keeps nothing about."""
    return View(_("I keep nothing about you."), Keyboard([[button(_("⬅️ Menu"), cb.MenuShow())]]))


def my_data_caption() -> str:
    """The caption of the JSON file."""
    return _("Everything I keep about you (JSON).")


def role_name(role: str, group: str | None) -> str:
    """A role in words: network coordinator, admin of a group, volunteer of a group..."""
    if role == "coordinator" or group is None:
        return _("network coordinator")
    name = fmt.bidi(fmt.escape(group))
    if role == "admin":
        return _("admin of {group}").format(group=name)
    if role == "contact":
        return _("safeguarding contact of {group}").format(group=name)
    return _("volunteer of {group}").format(group=name)


def forget_confirm(
    roles: Sequence[tuple[str, str | None]] = (), uncovered: Sequence[str] = ()
) -> View:
    """The one confirmation before deleting everything: with the roles that go too, and the
    groups that will be left without a safeguarding contact."""
    lines = [
        "<b>" + _("🗑 Delete everything?") + "</b>",
        _(
            "I will delete your language, settings, saved area and reminders. This cannot be undone."
        ),
    ]
    if roles:
        names = fmt.join([role_name(role, group) for role, group in roles])
        lines.append(_("👥 You will also lose your roles: {roles}.").format(roles=names))
    if uncovered:
        groups = fmt.join([fmt.bidi(fmt.escape(g)) for g in uncovered])
        lines.append(
            _("🛡 {groups} will have no safeguarding contact until an admin chooses one.").format(
                groups=groups
            )
        )
    text = "\n".join(lines)
    rows = [
        [button(_("🗑 Yes, delete everything"), cb.ForgetConfirmed())],
        [button(_("✖️ No, keep it"), cb.MenuShow())],
    ]
    return View(text, Keyboard(rows))


def forgotten() -> View:
    """Everything is deleted."""
    return View(
        _(
            "✅ Done. I have deleted everything I kept about you. If you write again, we start fresh."
        )
    )


def stay_question() -> View:
    """After 12 months of silence: keep or delete?"""
    text = "\n".join(
        [
            _("👋 You have not used this bot for a year. Shall I keep your settings?"),
            _("If you do not answer within 30 days, I will delete everything I keep about you."),
        ]
    )
    rows = [
        [button(_("✅ Keep my settings"), cb.KeepSettings())],
        [button(_("🗑 Delete everything"), cb.ForgetAsk())],
    ]
    return View(text, Keyboard(rows))


def stay_kept() -> View:
    """The person wants to stay."""
    return View(
        _("✅ Thank you. I will keep your settings."),
        Keyboard([[button(_("⬅️ Menu"), cb.MenuShow())]]),
    )


def ask_new_area() -> View:
    """I've moved: where are you now?"""
    text = "\n".join(
        [
            "<b>" + _("🚚 Where are you now?") + "</b>",
            _("Tap the button below to share your location, or type a town, city or postcode."),
            _("I save only the area, rounded to about {distance}.").format(
                distance=_area_rounding()
            ),
        ]
    )
    return View(text, share_location_keyboard())


def moved(
    label: str | None,
    digest: bool,
    group: GroupHit | None,
    far: list[Listing],
    radius_miles: float,
    here: SearchState,
) -> View:
    """The new area is saved: the nearest group, and reminders now far away to drop."""
    place = fmt.bidi(fmt.escape(label)) if label else _("this area")
    lines = [_("✅ Your area is now {place}.").format(place=place)]
    if digest:
        lines.append(_("Your weekly digest will show activities near it."))
    if group is not None:
        lines += ["", _("🏠 The nearest City of Sanctuary group:"), group_lines(1, group)]
    rows = []
    if far:
        lines += [
            "",
            ngettext(
                "This reminder is for an activity more than {distance} away:",
                "These reminders are for activities more than {distance} away:",
                len(far),
            ).format(distance=fmt.bidi(fmt.radius(radius_miles))),
        ]
        for activity in far:
            lines.append(f"• {fmt.escape(activity.title)}")
            rows.append([button(f"🔕 {activity.title[:40]}", cb.DropFarReminder(activity.id))])
        if len(far) > 1:
            rows.append([button(_("🔕 Stop all of these"), cb.DropAllFarReminders())])
    rows.append([button(_("🔎 Activities here"), cb.SearchPage(here))])
    rows.append([button(_("⬅️ Menu"), cb.MenuShow())])
    return View("\n".join(lines), Keyboard(rows))
