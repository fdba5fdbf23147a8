"""What organisers see when they translate an activity's texts ("🌐 Translations")."""

from __future__ import annotations

from collections.abc import Mapping

from bot import callbacks as cb
from bot.domain.translations import TARGETS
from bot.i18n import BY_CODE, N_, _, gettext
from bot.views import formatting as fmt
from bot.views.common import View, button, row
from bot.views.keyboard import Keyboard
from storage.models import Activity
from storage.translations import Translation

# state of a language's translation → its mark on the button
MARKS = {"ok": "✅ ", "stale": "⚠️ ", "pending": "⏳ "}
QUESTIONS = {
    "title": N_("Type the title in {language}."),
    "description": N_("Type the description in {language}."),
    "cost": N_("Type the cost note in {language}."),
    "place": N_("Type the place notes in {language}."),
}


def language_name(code: str) -> str:
    """A language of the bot by its own name, isolated for right-to-left text."""
    return fmt.bidi(BY_CODE[code].native_name)


def languages(activity: Activity, states: Mapping[str, str]) -> View:
    """Which languages the activity has, and a button for each language of the bot."""
    title = fmt.bidi(fmt.escape(activity.title))
    lines = [_("🌐 <b>Translations</b> of {title}").format(title=f"<b>{title}</b>")]
    if states:
        names = [MARKS[state] + language_name(code) for code, state in states.items()]
        lines.append(_("It has: {languages}").format(languages=fmt.join(names)))
    else:
        lines.append(_("No translations yet."))
    lines += [
        "",
        _("Choose a language. People who read it see your words instead of the English."),
        _("⚠️ out of date: the English changed since. ⏳ waits for a group admin."),
    ]
    keys = [
        button(
            MARKS.get(states.get(code, ""), "") + BY_CODE[code].native_name,
            cb.TranslateInto(activity.id, code),
        )
        for code in TARGETS
    ]
    rows = [row(*keys[i : i + 3]) for i in range(0, len(keys), 3)]
    rows.append([button(_("⬅️ Back"), cb.ManageOpen(activity.id))])
    return View("\n".join(lines), Keyboard(rows))


def question(activity: Activity, lang: str, field: str, original: str, now: str | None,
             stale: bool) -> View:  # fmt: skip
    """One field to type in one language, with the original and the translation so far."""
    lines = [
        "<b>" + gettext(QUESTIONS[field]).format(language=language_name(lang)) + "</b>",
        _("In English: {text}").format(text="<i>" + fmt.bidi(fmt.escape(original)) + "</i>"),
    ]
    if now:
        lines.append(_("Now: {text}").format(text=fmt.bidi(fmt.escape(now))))
    lines += ["", _("/back changes the previous answer, /cancel stops (your answers are kept).")]
    keys = [button(_("⏭ Skip"), cb.TranslationSkip(activity.id, lang, field))]
    if stale:
        keys.append(button(_("✅ Still right"), cb.TranslationStillRight(activity.id, lang)))
    return View("\n".join(lines), Keyboard([row(*keys)]))


def saved(lang: str, pending: bool) -> str:
    """The language's fields are typed."""
    if pending:
        return _("⏳ Saved. A group admin checks it before people see it.")
    return _("✅ Saved: {language}.").format(language=language_name(lang))


def missing_line(counts: list[tuple[str, int]]) -> str:
    """/myactivities: how many activities miss each language the bot's readers use."""
    parts = [f"{language_name(code)} {fmt.number(count)}" for code, count in counts if count]
    if not parts:
        return ""
    return _("🌐 Not yet translated, for your readers: {counts}").format(counts=" · ".join(parts))


def waiting(found: list[Translation]) -> str:
    """/moderate: a volunteer's translations waiting with the activity, for the admin to read."""
    items = [t for t in found if t.status == "pending"]
    if not items:
        return ""
    lines = ["", _("🌐 <b>Translations waiting for your check:</b>")]
    lines += [f"• {language_name(t.lang)}: {fmt.bidi(fmt.escape(t.text))}" for t in items]
    return "\n".join(lines)
