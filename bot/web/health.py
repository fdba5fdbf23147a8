"""What /healthz and /readyz say: the process runs; the bot can do its work."""

from __future__ import annotations

import asyncio
import time

from bot.services import Services

CONTACT_LIMIT_S = 120.0  # updates arrived or Telegram answered within this: ready
DB_LIMIT_S = 2.0


class Contact:
    """When the bot last heard from Telegram: an update arrived, a poll was answered, or the
    webhook was confirmed (time.monotonic())."""

    def __init__(self) -> None:
        self.last: float | None = None

    def touch(self) -> None:
        """Telegram was heard from now."""
        self.last = time.monotonic()

    def age(self) -> float | None:
        """Seconds since Telegram was last heard from (None: never)."""
        return None if self.last is None else time.monotonic() - self.last


async def not_ready(services: Services | None, contact: Contact) -> str | None:
    """Why the bot cannot do its work now, in one line, or None when it can."""
    if services is None:
        return "starting"
    try:
        async with asyncio.timeout(DB_LIMIT_S):
            await services.db.ping()
    except Exception as exc:
        return f"the database does not answer ({type(exc).__name__})"
    if not services.sender_alive():
        return "the outbox sender is not running"
    age = contact.age()
    if age is None or age > CONTACT_LIMIT_S:
        return f"no update and no answer from Telegram for {CONTACT_LIMIT_S:.0f} s"
    return None
