"""How each kind of outbox row becomes a message, at send time, in the recipient's language."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot import formatting as fmt
from bot.delivery import Renderer
from bot.i18n import gettext
from bot.recurrence import zone
from bot.search import Directory
from bot.views import View, reminder_message
from storage.outbox import OutboxRow


async def notice(row: OutboxRow) -> View | None:
    """``{"message": msgid, "args": {...}}``: a marked (N_) message translated when sent.

    Arguments are escaped: they may come from people (activity titles, group names).
    """
    message = row.payload.get("message")
    if not isinstance(message, str) or not message:
        return None
    args = row.payload.get("args") or {}
    safe = {str(k): fmt.bidi(fmt.escape(str(v))) for k, v in dict(args).items()}
    return View(gettext(message).format(**safe))


def build_renderers(
    directory: Directory | None, now: Callable[[], datetime]
) -> dict[str, Renderer]:
    """The renderers; reminders need the directory (activities as they are when sent)."""

    async def reminder(row: OutboxRow) -> View | None:
        """A reminder of one occurrence, or its cancellation if it was cancelled since."""
        assert directory is not None
        activity = directory.activities.get(int(row.payload.get("activity_id", 0)))
        start = datetime.fromisoformat(str(row.payload.get("start")))
        if activity is None or start <= now():
            return None  # unpublished, or already started: nothing useful to say
        group = directory.groups[activity.group_id]
        cancelled = start.astimezone(zone(group.timezone)).date() in activity.skips
        return reminder_message(activity, group, start, cancelled)

    renderers: dict[str, Renderer] = {"notice": notice}
    if directory is not None:
        renderers["reminder"] = reminder
    return renderers


RENDERERS: dict[str, Renderer] = {"notice": notice}
