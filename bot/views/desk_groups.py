"""What the desk's Groups and people page (bot/web/desk_groups.py) says, in the current locale.

Every text here is set by the page as text, never as HTML; only ``qr_svg`` returns markup,
drawn by segno from the invite link alone. Words the bot already says (the invite's message,
the team's roles, "Removed from the team.") are the bot's own msgids.
"""

from __future__ import annotations

import io

from bot.i18n import N_, gettext

_ = gettext

# The page's own words, sent with its data.
TEXTS = {
    "groups": N_("Groups and people"),
    "contacts": N_("Contacts"),
    "email": N_("Email"),
    "website": N_("Website"),
    "phone": N_("Phone"),
    "telegram": N_("Telegram"),
    "save": N_("Save"),
    "safeguarding": N_("Safeguarding contact"),
    "nobody": N_("Nobody yet"),
    "team": N_("Admins and volunteers"),
    "admin": N_("group admin"),
    "volunteer": N_("volunteer"),
    "coordinator": N_("network coordinator"),
    "coordinators": N_("Network coordinators"),
    "make_admin": N_("⭐ Make admin"),
    "not_admin": N_("Stop being admin"),
    "remove": N_("❌ Remove from the team"),
    "make_contact": N_("🛡 Make safeguarding contact"),
    "invite": N_("🔗 New invite link"),
    "give": N_("Give a role"),
    "user_id": N_("Telegram user id"),
    "role": N_("Role"),
    "give_button": N_("Give the role"),
    "take_away": N_("Take the role away"),
    "cancel": N_("Cancel"),
    "no_team": N_("No volunteers yet. Send /invite to invite one."),
    "poster": N_("Poster for a noticeboard"),
    "poster_languages": N_("Languages on the poster (up to three)"),
    "poster_button": N_("⬇️ Download the poster (PDF)"),
}

# A contact the importer's checks refused, in words for the person typing it.
CONTACT_PROBLEMS = {
    "email": N_("Please check the email address."),
    "website": N_("A website address starts with https://"),
    "phone": N_("Please check the phone number: digits, spaces, + ( ) and - only."),
    "telegram": N_("A Telegram contact is a @username."),
}
CONTACT_COLUMNS = tuple(CONTACT_PROBLEMS)


def texts() -> dict[str, str]:
    """The page's words in the current locale."""
    return {name: gettext(msgid) for name, msgid in TEXTS.items()}


def contact_problem(column: str) -> str:
    """Why a contact was not taken; a group with no contact at all names the first one."""
    return gettext(CONTACT_PROBLEMS.get(column, CONTACT_PROBLEMS["email"]))


def no_contact_left() -> str:
    """Every contact emptied: the directory shows at least one."""
    return _("Give at least one contact: email, website, phone or Telegram.")


def poster_unavailable() -> str:
    """The poster extra is not installed on this server (the page hides the button then)."""
    return _("Posters cannot be made on this server: its PDF tools are not installed.")


def poster_empty() -> str:
    """The group has nothing on in the poster's weeks."""
    return _(
        "This group has no activities in the next four weeks: there is nothing to put on a poster."
    )


def contacts_saved() -> str:
    """The group's contacts were changed."""
    return _("✅ Saved. People see the new contacts now.")


def role_given(name: str, role: str) -> str:
    """A role was given (the role in words)."""
    return _("✅ {name} is now: {role}.").format(name=name, role=role)


def role_taken(name: str, role: str) -> str:
    """A role was taken away."""
    return _("✅ {name} is no longer: {role}.").format(name=name, role=role)


def nothing_changed() -> str:
    """A grant of a role already held, or a revoke of one not held."""
    return _("Nothing changed: that was already so.")


def role_name(role: str) -> str:
    """A role in words."""
    return gettext(TEXTS.get(role, TEXTS["volunteer"]))


def qr_svg(link: str) -> str:
    """The invite link as a QR code, SVG (dark squares on white, for any phone's camera)."""
    import segno

    out = io.BytesIO()
    segno.make(link, error="m", micro=False).save(
        out, kind="svg", xmldecl=False, svgns=True, omitsize=True, nl=False,
        scale=4, border=4, dark="#000", light="#fff", svgclass="qr",
    )  # fmt: skip
    return out.getvalue().decode("utf-8")
