"""Group admins' views: the weekly post in a group chat, invites, the team, refusals."""

from __future__ import annotations

from bot import callbacks as cb
from bot.domain.recurrence import Occurrence
from bot.i18n import gettext
from bot.views import formatting as fmt
from bot.views.common import MAX_BUTTONS, View, button, fit_blocks
from bot.views.keyboard import Keyboard
from bot.views.labels import category_label
from storage.models import Activity, Group

_ = gettext


def weekly_post(group: Group, listed: list[tuple[Occurrence, Activity]]) -> View:
    """A group chat's weekly post: the group's activities of the coming week, by date."""
    lines = [
        _("📅 <b>This week at {group}</b>").format(group=fmt.bidi(fmt.escape(group.name))),
        "",
    ]
    blocks = []
    for occurrence, activity in listed:
        when = fmt.bidi(fmt.when(occurrence.start, group.timezone))
        icon = category_label(activity.category).split(" ", 1)[0]
        block = [f"{icon} {when} · <b>{fmt.escape(activity.title)}</b>"]
        if activity.venue:
            block.append(f"    📍 {fmt.escape(activity.venue)}")
        blocks.append(block)
    tail = ["", _("Reminders and more: write to me privately and send /find.")]
    text, _shown = fit_blocks(lines, blocks, tail)
    return View(text)


def weekly_on(group_name: str) -> str:
    """The weekly post is switched on in this chat."""
    return _("✅ Every Monday morning I will post the week's activities of {group} here.").format(
        group=fmt.bidi(fmt.escape(group_name))
    )


def weekly_off() -> str:
    """The weekly post is switched off."""
    return _("🔕 I will no longer post the week's activities here.")


def weekly_nothing_linked() -> str:
    """/weekly off in a chat where it was never switched on."""
    return _("There is no weekly post in this chat, so there is nothing to switch off.")


def weekly_anonymous() -> str:
    """/weekly sent as the group or as a channel: whose role to check is not known."""
    return _(
        "I can't tell who sent this, so I can't check that you are a group admin. Please send /weekly from your own account, not as the group or a channel."
    )


def weekly_usage() -> str:
    """How /weekly is used."""
    return _("Send /weekly on or /weekly off in your group's Telegram chat.")


def admins_only() -> str:
    """A refusal: the caller lacks the role (checked on the server, every time)."""
    return _(
        "Only an admin of a City of Sanctuary group can do this. Ask your group's coordinator."
    )


def hello_group() -> str:
    """The bot was added to a group chat."""
    return _(
        "👋 Hello! An admin of your City of Sanctuary group can send /weekly on here: every Monday I will post the group's activities for the week."
    )


def invite_link(group_name: str, link: str) -> View:
    """A one-time invite link for a new volunteer."""
    text = "\n".join(
        [
            _(
                "🔗 An invite to {group}. Send it to one new volunteer: it works once, within 7 days."
            ).format(group=fmt.bidi(fmt.escape(group_name))),
            fmt.escape(link),
        ]
    )
    return View(text)


def joined(group_name: str) -> View:
    """The invite worked."""
    welcome = _("✅ Welcome to the team of {group}! You are now a volunteer.").format(
        group=fmt.bidi(fmt.escape(group_name))
    )
    how = _("Post an activity with /newactivity, and look after yours with /myactivities.")
    return View(welcome + "\n" + how)


def invite_own(group_name: str) -> View:
    """Someone already in the team (often the admin who made it) opened an invite."""
    return View(
        _(
            "🙂 You are already in the team of {group}. Send this link to the new volunteer: it still works for them."
        ).format(group=fmt.bidi(fmt.escape(group_name)))
    )


def invite_invalid() -> View:
    """An expired, used or unknown invite."""
    return View(
        _("This invite has expired or was already used. Ask your group admin for a new one.")
    )


def team(
    group_name: str, group_id: int, members: list[tuple[int, str, str]], extra: tuple[str, ...] = ()
) -> View:
    """The admins and volunteers of a group, each volunteer with a button to remove them,
    then ``extra`` lines; as many members as one message (and its buttons) holds."""
    lines = [
        _("👥 <b>Team of {group}</b>").format(group=fmt.bidi(fmt.escape(group_name))),
        "",
    ]
    blocks = []
    volunteers = [(uid, label) for uid, role, label in members if role == "volunteer"]
    for uid, role, label in members[:MAX_BUTTONS]:
        shown = fmt.bidi(fmt.escape(label) if label else f"#{uid}")  # an id is not a number
        blocks.append([f"{'⭐' if role == 'admin' else '•'} {shown}"])
    tail = [] if volunteers else [_("No volunteers yet. Send /invite to invite one.")]
    text, shown_count = fit_blocks(lines, blocks, [*tail, "", *extra] if extra else tail)
    listed = {uid for uid, _role, _label in members[:shown_count]}
    rows = []
    for uid, label in volunteers:
        if uid in listed:
            name = label[:30] if label else f"#{uid}"
            rows.append([button(f"❌ {name}", cb.RemoveVolunteer(group_id, uid))])
    return View(text, Keyboard(rows) if rows else None)


def removed_from_team() -> str:
    """Answer to the admin who removed a volunteer."""
    return _("Removed from the team.")
