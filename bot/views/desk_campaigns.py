"""What the desk's Campaigns page (bot/web/desk_campaigns.py) says, in the current locale.

Most of its words are the bot's own (/campaign's buttons, questions and answers, the call as
supporters see it), so a translation is made once; only the page's headings are new. Every
text is set by the page as text, never as HTML.
"""

from __future__ import annotations

from datetime import datetime

from bot.i18n import N_, gettext
from bot.views import campaigns as cv

_ = gettext

# The page's own words, sent with its data; the bot's buttons are taken from its views.
TEXTS = {
    "campaigns": N_("Campaign calls"),
    "new": N_("📝 New call"),
    "english": N_("English"),
    "translation": N_("Translation"),
    "save": N_("Save"),
    "send_now": N_("As soon as I confirm"),
    "at": N_("At a date and time"),
    "place": N_("Town or city"),
    "open": N_("Open"),
    "cancel": N_("Cancel"),
}

# The bot's own words for the parts of a call (its /campaign buttons and summary).
BOT_WORDS = {
    "title": N_("✏️ Title"),
    "text": N_("✏️ Text"),
    "url": N_("🔗 Action link"),
    "translations": N_("🌐 Add a translation"),
    "topics": N_("🏷 Topics"),
    "area": N_("🗺 Area"),
    "when": N_("🕒 Send time"),
    "preview": N_("👁 Preview"),
    "confirm": N_("✅ Confirm"),
    "discard": N_("🗑 Discard"),
    "yes_send": N_("✅ Yes, send"),
    "whole_uk": N_("The whole UK"),
    "near": N_("Near a town or city…"),
    "preview_intro": N_("👁 This is exactly what supporters will see:"),
}


def texts() -> dict[str, str]:
    """The page's words in the current locale."""
    words = {**TEXTS, **BOT_WORDS}
    return {name: gettext(msgid) for name, msgid in words.items()}


def saved() -> str:
    """A part of a call was changed."""
    return _("✅ Saved.")


def when_label(now: datetime) -> str:
    """The send time's field: how to write it, with an example (tomorrow at 18:00)."""
    return _("Date and time (Europe/London), for example {example}").format(
        example=cv.when_example(now)
    )
