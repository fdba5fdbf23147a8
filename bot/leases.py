"""Work that runs on one instance at a time, among several sharing one database.

The scheduled jobs (``jobs``: reminders, digests, weekly group posts, campaign starts,
retention, freshness) and the outbox sender (``sender``) are each held through a lease row:
its holder renews it every ``RENEW_S`` for ``LEASE`` ahead, and every other instance tries
to take it as often, which succeeds once it has expired. So when the holder dies, another
instance takes over at most ``LEASE`` + ``RENEW_S`` after its last renewal (25 s). The
holder stops the work ``MARGIN`` before the expiry it wrote, when it could not renew, so its
work has ended before anyone else may start it. A graceful stop gives the lease up at once.

Plain SQL on a row, not a PostgreSQL advisory lock, so it is the same on both engines (and
an advisory lock lives and dies with one connection, which a pool hands around).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from storage.leases import LeaseRepository

log = logging.getLogger(__name__)
LEASE = timedelta(seconds=20)
RENEW_S = 5.0
MARGIN = timedelta(seconds=5)
JOBS = "jobs"
SENDER = "sender"


class Lease:
    """One lease as this instance sees it; ``renew`` runs every ``RENEW_S``."""

    def __init__(
        self,
        repo: LeaseRepository,
        name: str,
        holder: str,
        now: Callable[[], datetime],
        on_gain: Callable[[], Awaitable[None]] | None = None,
        on_loss: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.repo = repo
        self.name = name
        self.holder = holder
        self.now = now
        self.on_gain = on_gain
        self.on_loss = on_loss
        self._until: datetime | None = None  # this instance's work stops then, unless renewed
        self._working = False  # on_gain ran, on_loss not yet

    @property
    def held(self) -> bool:
        """Whether this instance may do the lease's work now."""
        return self._until is not None and self.now() < self._until

    async def renew(self) -> bool:
        """Renew the lease, or take it if it is free or expired; start or stop the work when
        that changed. True while held."""
        now = self.now()
        try:
            taken = await self.repo.take(self.name, self.holder, now, now + LEASE)
        except Exception:  # the database is away: the work goes on until the margin
            log.exception("could not renew the %s lease", self.name)
        else:
            self._until = now + LEASE - MARGIN if taken else None
        if self.held and not self._working:
            log.info("this instance (%s) now holds the %s lease", self.holder, self.name)
            if self.on_gain is not None:
                await self.on_gain()  # if it fails, it is tried again at the next renewal
            self._working = True
        elif not self.held and self._working:
            await self.stop()
        return self.held

    async def stop(self) -> None:
        """Stop the lease's work here (it may be taken again at the next ``renew``)."""
        self._until = None
        if self._working:
            self._working = False
            log.info("this instance (%s) no longer holds the %s lease", self.holder, self.name)
            if self.on_loss is not None:
                await self.on_loss()

    async def release(self) -> None:
        """Stop the work and give the lease up, so another instance takes it at once."""
        await self.stop()
        await self.repo.release(self.name, self.holder)
