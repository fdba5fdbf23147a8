"""Translated labels for the network's codes. Marked with N_ and translated at render time."""

from __future__ import annotations

from bot.domain.vocabulary import Category, Intent, Nation, Need, Stream, Topic
from bot.i18n import N_, gettext

CATEGORY_LABELS: dict[str, str] = {
    Category.ENGLISH: N_("English classes"),
    Category.CONVERSATION: N_("Conversation café"),
    Category.SPORT: N_("Sport"),
    Category.ARTS: N_("Arts and crafts"),
    Category.FOOD: N_("Food"),
    Category.ADVICE: N_("Advice and legal"),
    Category.HEALTH: N_("Health and wellbeing"),
    Category.FAMILIES: N_("Children and families"),
    Category.WOMEN: N_("Women's groups"),
    Category.FAITH: N_("Faith and community"),
}

CATEGORY_ICONS: dict[str, str] = {
    Category.ENGLISH: "📖",
    Category.CONVERSATION: "☕",
    Category.SPORT: "⚽",
    Category.ARTS: "🎨",
    Category.FOOD: "🍲",
    Category.ADVICE: "⚖️",
    Category.HEALTH: "💚",
    Category.FAMILIES: "🧸",
    Category.WOMEN: "👩",
    Category.FAITH: "🤝",
}

NEED_LABELS: dict[str, str] = {
    Need.FREE: N_("Free"),
    Need.NO_ID: N_("No ID needed"),
    Need.WOMEN_ONLY: N_("Women only"),
    Need.CHILDREN: N_("Children welcome"),
    Need.INTERPRETER: N_("Interpreter"),
    Need.STEP_FREE: N_("Step-free access"),
}

STREAM_LABELS: dict[str, str] = {
    Stream.SCHOOL: N_("School of Sanctuary"),
    Stream.UNIVERSITY: N_("University of Sanctuary"),
    Stream.COLLEGE: N_("College of Sanctuary"),
    Stream.LIBRARY: N_("Library of Sanctuary"),
    Stream.THEATRE: N_("Theatre of Sanctuary"),
    Stream.HEALTH: N_("Health of Sanctuary"),
    Stream.FAITH: N_("Faith of Sanctuary"),
    Stream.ARTS: N_("Arts of Sanctuary"),
    Stream.SPORT: N_("Sport of Sanctuary"),
    Stream.MATERNITY: N_("Maternity of Sanctuary"),
    Stream.COUNCIL: N_("Council of Sanctuary"),
}

INTENT_LABELS: dict[str, str] = {
    Intent.SEEKING: N_("I'm looking for welcome and support"),
    Intent.VOLUNTEER: N_("I volunteer with a group"),
    Intent.SUPPORTER: N_("I want to support campaigns"),
}


def category_label(code: str) -> str:
    """The translated name of a category, with its icon."""
    label = CATEGORY_LABELS.get(code)
    return f"{CATEGORY_ICONS.get(code, '•')} {gettext(label)}" if label else code


def need_label(code: str) -> str:
    """The translated name of a needs tag."""
    label = NEED_LABELS.get(code)
    return gettext(label) if label else code


def stream_label(code: str | None) -> str:
    """What kind of place of sanctuary a group is."""
    if code and code in STREAM_LABELS:
        return gettext(STREAM_LABELS[code])
    return gettext("City of Sanctuary group")


TOPIC_LABELS: dict[str, str] = {
    Topic.ASYLUM: N_("Asylum system"),
    Topic.DETENTION: N_("Detention"),
    Topic.WORK: N_("Right to work"),
    Topic.WELCOME: N_("Local welcome"),
    Topic.HOUSING: N_("Housing and destitution"),
    Topic.RESETTLEMENT: N_("Resettlement"),
}

NATION_LABELS: dict[str, str] = {
    Nation.ENGLAND: N_("England"),
    Nation.SCOTLAND: N_("Scotland"),
    Nation.WALES: N_("Wales"),
    Nation.NORTHERN_IRELAND: N_("Northern Ireland"),
}

# Gazetteer regions (GeoNames admin1 codes) as nations.
REGION_NATIONS: dict[str, str] = {
    "ENG": Nation.ENGLAND,
    "SCT": Nation.SCOTLAND,
    "WLS": Nation.WALES,
    "NIR": Nation.NORTHERN_IRELAND,
}


def topic_label(code: str) -> str:
    """The translated name of a campaign topic."""
    label = TOPIC_LABELS.get(code)
    return gettext(label) if label else code


def nation_label(code: str) -> str:
    """The translated name of a nation of the UK."""
    label = NATION_LABELS.get(code)
    return gettext(label) if label else code
