"""How each kind of outbox row becomes a message, at send time, in the recipient's language.

Later journeys (reminders, digests, campaign calls) add their kinds here.
"""

from __future__ import annotations

from bot import formatting as fmt
from bot.delivery import Renderer
from bot.i18n import gettext
from bot.views import View
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


RENDERERS: dict[str, Renderer] = {"notice": notice}
