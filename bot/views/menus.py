"""The main menu, /help and the command menu (with the commands of the person's roles)."""

from __future__ import annotations

from bot import callbacks as cb
from bot.domain.vocabulary import Intent
from bot.i18n import N_, gettext
from bot.views import formatting as fmt
from bot.views.common import View, button, row
from bot.views.keyboard import Keyboard
from storage.roles import ADMIN, COORDINATOR, VOLUNTEER

_ = gettext


def main_menu(
    intent: str | None,
    area_label: str | None,
    has_area: bool,
    roles: frozenset[str] = frozenset(),
) -> View:
    """The main menu: find, groups, language, help, privacy; posting for anyone who holds a
    role (volunteer, group admin, coordinator), whatever they said at /start."""
    lines = [_("What would you like to do?")]
    if intent == Intent.VOLUNTEER and not roles:
        lines.append(
            _("Volunteers post their group's activities here (your group admin sends an invite).")
        )
    rows = [[button(_("🔎 Find welcoming activities"), cb.MenuFind())]]
    if intent == Intent.VOLUNTEER or roles:
        rows.append(
            row(
                button(_("📝 Post an activity"), cb.PostNew()),
                button(_("📋 My activities"), cb.MyActivities()),
            )
        )
    if has_area:
        label = area_label or _("my area")
        rows.append(
            [button(_("📍 Activities near {place}").format(place=fmt.bidi(label)), cb.MenuNear())]
        )
    rows += [
        [button(_("🏠 Groups near me"), cb.MenuGroups())],
    ]
    if intent in (Intent.SUPPORTER, Intent.VOLUNTEER) or roles:  # never unasked to seekers
        rows.append([button(_("📣 Campaign alerts"), cb.MenuAlerts())])
    rows += [
        row(button(_("🌐 Language"), cb.MenuLanguage()), button(_("ℹ️ Help"), cb.MenuHelp())),
        row(button(_("🔒 Privacy"), cb.MenuPrivacy()), button(_("🚚 I've moved"), cb.Moved())),
    ]
    return View("\n".join(lines), Keyboard(rows))


# The commands of each role, for /help and the chat's command menu: (role, command, text).
ROLE_COMMANDS = (
    (VOLUNTEER, "newactivity", N_("Post an activity")),
    (VOLUNTEER, "myactivities", N_("The activities you look after")),
    (ADMIN, "moderate", N_("Check volunteers' posts")),
    (ADMIN, "invite", N_("A link to invite a volunteer")),
    (ADMIN, "team", N_("Your group's team")),
    (ADMIN, "safeguarding", N_("Choose the safeguarding contact")),
    (ADMIN, "reports", N_("Concerns to look at")),
    (ADMIN, "desk", N_("The desk: figures, checks and the audit log")),
    (COORDINATOR, "campaign", N_("Write a campaign call")),
    (COORDINATOR, "campaigns", N_("Campaign calls and how they went")),
)


ROLE_HEADINGS = (
    (VOLUNTEER, N_("<b>For volunteers</b>")),
    (ADMIN, N_("<b>For group admins</b>")),
    (COORDINATOR, N_("<b>For coordinators</b>")),
)


def _role_levels(roles: frozenset[str]) -> set[str]:
    """Which roles' commands a person has: an admin posts too, a coordinator does it all."""
    levels = set()
    if roles:
        levels.add(VOLUNTEER)
    if ADMIN in roles or COORDINATOR in roles:
        levels.add(ADMIN)
    if COORDINATOR in roles:
        levels.add(COORDINATOR)
    return levels


def _role_help(roles: frozenset[str]) -> list[str]:
    """/help's lines for the person's roles, a heading for each."""
    levels = _role_levels(roles)
    lines: list[str] = []
    for level, heading in ROLE_HEADINGS:
        if level not in levels:
            continue
        lines += ["", gettext(heading)]
        for role, name, description in ROLE_COMMANDS:
            if role == level:
                lines.append(fmt.bidi(f"/{name}") + " – " + fmt.escape(gettext(description)))
    return lines


def help_text(roles: frozenset[str] = frozenset()) -> View:
    """What the bot does and its commands (with those of the person's roles)."""
    text = "\n".join(
        [
            _("<b>How this bot helps</b>"),
            _(
                "It finds welcoming activities and City of Sanctuary groups near you: conversation cafés, English classes, sport, advice and more."
            ),
            "",
            _("/find – welcoming activities near you"),
            _("/groups – City of Sanctuary groups near you"),
            _("/language – change the language"),
            _("/reminders – your reminders"),
            _("/alerts – campaign calls, if you want them"),
            _("/privacy – what I keep and how to delete it"),
            _("/mydata – a copy of everything I keep about you"),
            _("/forget – delete everything I keep about you"),
            _("/start – start again"),
            *_role_help(roles),
            "",
            _("You can type a town, city or postcode at any time."),
        ]
    )
    return View(text, Keyboard([[button(_("⬅️ Menu"), cb.MenuShow())]]))


COMMANDS = (
    ("find", N_("Welcoming activities near you")),
    ("groups", N_("City of Sanctuary groups near you")),
    ("reminders", N_("Your reminders")),
    ("alerts", N_("Campaign calls, if you want them")),
    ("language", N_("Change the language")),
    ("privacy", N_("What I keep and how to delete it")),
    ("help", N_("How this bot helps")),
    ("start", N_("Start again")),
)


def commands(roles: frozenset[str] = frozenset()) -> list[tuple[str, str]]:
    """The command menu in the current locale (with the commands of the person's roles)."""
    levels = _role_levels(roles)
    mine = [(n, gettext(d)) for role, n, d in ROLE_COMMANDS if role in levels]
    return [(name, gettext(description)) for name, description in COMMANDS] + mine
