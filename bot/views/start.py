"""What /start shows: the language picker, "what brings you here?" and the privacy note."""

from __future__ import annotations

from bot import callbacks as cb
from bot.domain.vocabulary import Intent
from bot.i18n import LANGUAGES, gettext, use_locale
from bot.views.common import View, button
from bot.views.keyboard import Keyboard
from bot.views.labels import INTENT_LABELS

_ = gettext


def language_picker(suggested: str | None, flow: str) -> View:
    """Every language in its own name; the person's Telegram language first and marked."""
    ordered = sorted(LANGUAGES, key=lambda lang: lang.code != suggested)
    buttons = [
        button(
            ("✓ " if lang.code == suggested else "") + lang.native_name,
            cb.ChooseLanguage(lang.code, flow),
        )
        for lang in ordered
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    # The prompt is shown in English and the suggested language, as the choice is not made yet.
    text = "🌍 Choose your language"
    if suggested and suggested != "en":
        with use_locale(suggested):
            translated = _("Choose your language")
        text = f"🌍 {translated}\n{text}"
    return View(text, Keyboard(rows))


def intent_question() -> View:
    """What brings you here? Three buttons, nothing personal."""
    text = "\n\n".join(
        [
            _(
                "<b>Welcome!</b> City of Sanctuary groups across the UK offer welcome, friendship and support to people seeking sanctuary."
            ),
            _("What brings you here?"),
            privacy_note(),
        ]
    )
    rows = [
        [button(gettext(label), cb.ChooseIntent(Intent(code)))]
        for code, label in INTENT_LABELS.items()
    ]
    return View(text, Keyboard(rows))


def privacy_note() -> str:
    """The two-line privacy note shown at the start."""
    return _("🔒 I never ask your name, your papers or where you live.\nMore in /privacy.")


def language_saved() -> str:
    """Confirmation in the new language."""
    return _("✅ I will speak English with you.")
