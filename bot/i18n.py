"""The i18n runtime: one locale per update in a ContextVar, gettext catalogs compiled to .mo.

Handlers never pass a locale around: the locale middleware sets it per update (stored choice,
then Telegram's language_code, then English) and jobs set it per recipient with ``use_locale``.
Catalogs are loaded once at start-up; a missing .mo fails fast with a clear message.

The translators' files are ``locales/<code>/LC_MESSAGES/messages.po`` at the top of the clone;
the compiled ``.mo`` files live inside the package, ``bot/locale/<code>/LC_MESSAGES/``, and are
found through importlib.resources, so an installed wheel finds them wherever it runs. The
build (setup.py) compiles them into the wheel; ``make compile`` into the clone's ``bot/locale``
for an editable install. Neither is committed.
"""

from __future__ import annotations

import gettext as _gettext
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from babel import Locale
from babel.support import LazyProxy

DEFAULT_LOCALE = "en"
DOMAIN = "messages"
# The translators' catalogs in a clone (messages.pot, <code>/LC_MESSAGES/messages.po).
LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
# The compiled catalogs, inside the package: <code>/LC_MESSAGES/messages.mo.
COMPILED = "locale"


@dataclass(frozen=True, slots=True)
class Language:
    """A language the bot speaks: its code, Babel locale, name in its own script and direction."""

    code: str
    babel: str
    native_name: str
    rtl: bool = False
    miles: bool = False

    @property
    def locale(self) -> Locale:
        """The Babel locale used for dates, numbers and names (parsed once)."""
        return _babel_locale(self.babel)


@lru_cache(maxsize=64)
def _babel_locale(identifier: str) -> Locale:
    return Locale.parse(identifier)


# The order of the language picker: English, then the languages people seeking sanctuary in
# the UK most often read (asylum claims by nationality), then the others, Welsh last.
# Dari has no Babel locale of its own: it is Persian as written in Afghanistan (fa_AF).
LANGUAGES: tuple[Language, ...] = (
    Language("en", "en_GB", "English", miles=True),
    Language("ar", "ar", "العربية", rtl=True),
    Language("fa", "fa", "فارسی", rtl=True),
    Language("fa_AF", "fa_AF", "دری", rtl=True),
    Language("ps", "ps", "پښتو", rtl=True),
    Language("ur", "ur", "اردو", rtl=True),
    Language("ckb", "ckb", "کوردی (سۆرانی)", rtl=True),
    Language("ku", "ku", "Kurdî (Kurmancî)"),
    Language("ti", "ti", "ትግርኛ"),
    Language("am", "am", "አማርኛ"),
    Language("so", "so", "Soomaali"),
    Language("sq", "sq", "Shqip"),
    Language("vi", "vi", "Tiếng Việt"),
    Language("bn", "bn", "বাংলা"),
    Language("tr", "tr", "Türkçe"),
    Language("uk", "uk", "Українська"),
    Language("ru", "ru", "Русский"),
    Language("fr", "fr", "Français"),
    Language("es", "es", "Español"),
    Language("cy", "cy", "Cymraeg"),
)
BY_CODE: dict[str, Language] = {lang.code: lang for lang in LANGUAGES}

# Telegram language codes (IETF tags) that map to a language of ours by more than their prefix.
ALIASES: dict[str, str] = {
    "prs": "fa_AF",  # Dari
    "fa-af": "fa_AF",
    "pes": "fa",
    "kmr": "ku",  # Kurmanji
    "sdh": "ckb",  # Southern Kurdish readers most often read Sorani
    "ku-iq": "ckb",
    "ku-arab": "ckb",
    "pbu": "ps",
    "pbt": "ps",
    "syl": "bn",  # Sylheti: no catalog, Bengali is offered
}
_CODES_LOWER = {lang.code.lower().replace("_", "-"): lang.code for lang in LANGUAGES}

_current: ContextVar[str] = ContextVar("sanctuary_locale", default=DEFAULT_LOCALE)
_translations: dict[str, _gettext.NullTranslations] = {}


class CatalogsNotCompiled(RuntimeError):
    """A catalog has no compiled .mo file: run ``make compile`` (or reinstall the package)."""


def compiled_catalogs() -> Traversable:
    """Where the package keeps its compiled catalogs (bot/locale)."""
    return resources.files("bot").joinpath(COMPILED)


def load_catalogs(locales_dir: Traversable | None = None) -> None:
    """Load every language's compiled catalog; raise if any is missing."""
    locales_dir = compiled_catalogs() if locales_dir is None else locales_dir
    missing: list[str] = []
    loaded: dict[str, _gettext.NullTranslations] = {}
    for lang in LANGUAGES:
        if lang.code == DEFAULT_LOCALE:
            loaded[lang.code] = _gettext.NullTranslations()
            continue
        mo = locales_dir.joinpath(lang.code, "LC_MESSAGES", f"{DOMAIN}.mo")
        if not mo.is_file():
            missing.append(str(mo))
            continue
        with mo.open("rb") as fh:
            loaded[lang.code] = _gettext.GNUTranslations(fh)
    if missing:
        raise CatalogsNotCompiled(
            "compiled catalogs are missing (in a clone run `make compile`; an installed "
            "package was built without them: reinstall it): " + ", ".join(missing)
        )
    _translations.clear()
    _translations.update(loaded)


def resolve_locale(stored: str | None, telegram_code: str | None) -> str:
    """Pick the locale: the person's stored choice, else Telegram's language_code, else English."""
    if stored and stored in BY_CODE:
        return stored
    return match_language(telegram_code) or DEFAULT_LOCALE


def match_language(tag: str | None) -> str | None:
    """Map an IETF language tag such as ``fa-IR`` or ``ar_SY`` to a language we speak."""
    if not tag:
        return None
    norm = tag.strip().replace("_", "-").lower()
    if norm in ALIASES:
        return ALIASES[norm]
    if norm in _CODES_LOWER:
        return _CODES_LOWER[norm]
    prefix = norm.split("-", 1)[0]
    if prefix in ALIASES:
        return ALIASES[prefix]
    return _CODES_LOWER.get(prefix)


def current_locale() -> str:
    """The locale of the update or job being handled."""
    return _current.get()


def current_language() -> Language:
    """The Language of the update or job being handled."""
    return BY_CODE.get(_current.get(), BY_CODE[DEFAULT_LOCALE])


def set_locale(code: str) -> None:
    """Set the locale for the rest of this task (one update)."""
    _current.set(code if code in BY_CODE else DEFAULT_LOCALE)


@contextmanager
def use_locale(code: str) -> Iterator[None]:
    """Render in ``code`` inside the block (jobs, per recipient)."""
    token = _current.set(code if code in BY_CODE else DEFAULT_LOCALE)
    try:
        yield
    finally:
        _current.reset(token)


def _catalog() -> _gettext.NullTranslations:
    return _translations.get(_current.get()) or _gettext.NullTranslations()


def gettext(message: str) -> str:
    """Translate ``message`` into the current locale."""
    return _catalog().gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """Translate a message with a count, choosing the plural form of the current locale."""
    return _catalog().ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    """Translate ``message`` with a disambiguating context."""
    return _catalog().pgettext(context, message)


def lazy_gettext(message: str) -> LazyProxy:
    """A string translated when used: only for module-level constants."""
    return LazyProxy(gettext, message, enable_cache=False)


def N_(message: str) -> str:
    """Mark ``message`` for extraction without translating it now."""
    return message


_ = gettext
