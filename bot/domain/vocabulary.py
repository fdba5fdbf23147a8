"""The network's vocabulary: categories, needs, streams and nations, as stable codes.

Codes are stored in the database, used in CSV imports and in callback data; labels are
translated at render time (see ``bot.views.labels``). Never match on a translated label.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Category(StrEnum):
    """What kind of welcoming activity it is."""

    ENGLISH = "english"
    CONVERSATION = "conversation"
    SPORT = "sport"
    ARTS = "arts"
    FOOD = "food"
    ADVICE = "advice"
    HEALTH = "health"
    FAMILIES = "families"
    WOMEN = "women"
    FAITH = "faith"


class Need(StrEnum):
    """A needs filter a person can ask for. ``free`` is derived from the cost."""

    FREE = "free"
    NO_ID = "no_id"
    WOMEN_ONLY = "women_only"
    CHILDREN = "children"
    INTERPRETER = "interpreter"
    STEP_FREE = "step_free"


# Needs an organiser tags on an activity (``free`` comes from an empty cost instead).
TAGGABLE_NEEDS = tuple(n for n in Need if n is not Need.FREE)


class GroupKind(StrEnum):
    """A local City of Sanctuary group, or a Stream of Sanctuary place."""

    GROUP = "group"
    STREAM = "stream"


class Stream(StrEnum):
    """The streams of sanctuary."""

    SCHOOL = "school"
    UNIVERSITY = "university"
    COLLEGE = "college"
    LIBRARY = "library"
    THEATRE = "theatre"
    HEALTH = "health"
    FAITH = "faith"
    ARTS = "arts"
    SPORT = "sport"
    MATERNITY = "maternity"
    COUNCIL = "council"


class Nation(StrEnum):
    """The four nations of the UK."""

    ENGLAND = "england"
    SCOTLAND = "scotland"
    WALES = "wales"
    NORTHERN_IRELAND = "northern-ireland"


class Intent(StrEnum):
    """What brought a person to the bot (asked once, never more personal than this)."""

    SEEKING = "seeking"
    VOLUNTEER = "volunteer"
    SUPPORTER = "supporter"


class PlaceFor(StrEnum):
    """What the next place a person gives (a typed place, a pin, a choice among places) is
    for. The codes travel in place buttons (``P:<key>:<code>``) already in people's chats."""

    ACTIVITIES = "f"  # find welcoming activities near it (the default)
    GROUPS = "g"  # the City of Sanctuary groups near it
    NEW_AREA = "m"  # "I've moved": save it as the person's area


class Topic(StrEnum):
    """What a campaign call is about; supporters subscribe by topic."""

    ASYLUM = "asylum"
    DETENTION = "detention"
    WORK = "work"
    WELCOME = "welcome"
    HOUSING = "housing"
    RESETTLEMENT = "resettlement"


class AlertArea(StrEnum):
    """Which campaign calls a supporter wants, by where they are about."""

    UK = "uk"  # calls for the whole UK
    NATION = "nation"  # calls for the nation of their saved area
    NEAR = "near"  # calls about a place near their saved area


class CampaignState(StrEnum):
    """Where a campaign call is in its life."""

    DRAFT = "draft"
    SCHEDULED = "scheduled"
    SENDING = "sending"
    PAUSED = "paused"
    SENT = "sent"
    CANCELLED = "cancelled"


def mask(codes: Iterable[str], order: tuple[StrEnum, ...]) -> int:
    """A bit mask over ``order`` of the codes given (unknown codes ignored)."""
    chosen = set(codes)
    return sum(1 << i for i, code in enumerate(order) if code in chosen)


def unmask(bits: int, order: tuple[StrEnum, ...]) -> list[str]:
    """The codes of a bit mask over ``order``, in order."""
    return [code.value for i, code in enumerate(order) if bits & (1 << i)]


TOPIC_ORDER: tuple[Topic, ...] = tuple(Topic)
AREA_ORDER: tuple[AlertArea, ...] = tuple(AlertArea)
