"""The services the handlers use, created in post_init and closed in post_shutdown."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.config import Config, ConfigError
from bot.geo import Gazetteer, Locator, Outcodes
from bot.search import Directory
from storage.activities import ActivityRepository
from storage.db import Database, utcnow
from storage.groups import GroupRepository
from storage.users import UserRepository


def load_outcodes(config: Config) -> Outcodes | None:
    """The postcode districts named by SANCTUARY_OUTCODES; a bad file is a ConfigError."""
    if config.outcodes_path is None:
        return None
    try:
        return Outcodes.from_csv(config.outcodes_path)
    except (ValueError, OSError) as exc:
        raise ConfigError(f"SANCTUARY_OUTCODES: {exc}") from None


@dataclass(slots=True)
class Services:
    """Everything a handler may reach, typed."""

    config: Config
    db: Database
    users: UserRepository
    groups: GroupRepository
    activities: ActivityRepository
    directory: Directory
    locator: Locator
    clock: Callable[[], datetime] = utcnow

    @classmethod
    async def create(
        cls,
        config: Config,
        gazetteer: Gazetteer | None = None,
        outcodes: Outcodes | None = None,
    ) -> Services:
        """Open the database, load places and the directory."""
        db = await Database.open(config.db_path)
        if outcodes is None:
            outcodes = load_outcodes(config)
        gazetteer = gazetteer or Gazetteer.load(config.cache_dir)
        activities = ActivityRepository(db)
        groups = GroupRepository(db)
        directory = Directory(activities, groups)
        await directory.refresh(force=True)
        return cls(
            config=config,
            db=db,
            users=UserRepository(db),
            groups=groups,
            activities=activities,
            directory=directory,
            locator=Locator(gazetteer, outcodes),
        )

    async def close(self) -> None:
        """Close the database."""
        await self.db.close()

    def now(self) -> datetime:
        """The current time (UTC) from the service clock (tests set their own)."""
        return self.clock()
