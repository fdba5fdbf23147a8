"""Fixtures: the gazetteer built once, and a running bot talking to the fake Bot API."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import pytest
from hypothesis import settings

from bot.app import TrackingUpdateProcessor, build_app, running
from bot.config import Config
from bot.context import App
from bot.domain.importer import parse_activities, parse_groups
from bot.i18n import load_catalogs
from bot.places.gazetteer import Gazetteer
from bot.places.postcodes import Outcodes
from bot.service import Running, serving
from bot.services import Services
from storage.activities import ActivityRepository
from storage.db import Database, to_db
from storage.groups import GroupRepository
from tests import engines
from tests.data import ACTIVITIES_CSV, GROUPS_CSV
from tests.fakeapi import Conversation, FakeBotAPI
from tests.helpers import eventually

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
OUTCODES_CSV = SHARED / "uk_outcode_centroids.csv"
# A Monday at noon: Tuesday's café is next, the July picnic is long past.
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
WEBHOOK_PATH = "/telegram/hook"
PUBLIC_URL = "https://bot.example.org"
WEBHOOK_SECRET = "test-Secret_1"

# Property tests (Hypothesis): no time limit per example (these machines are shared and slow at
# times; timings belong in make bench), and a failure prints how to replay it.
settings.register_profile("sanctuary", deadline=None, print_blob=True)
settings.load_profile("sanctuary")

if engines.on_postgresql():
    if not engines.SERVER:
        pytest.exit(
            "SANCTUARY_TEST_ENGINE=postgresql needs SANCTUARY_TEST_POSTGRESQL", returncode=4
        )
    engines.install()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Each half leaves out the other engine's own tests: on PostgreSQL those about SQLite
    itself (they ran in the SQLite half), on SQLite those that need both engines."""
    other = "sqlite_only" if engines.on_postgresql() else "postgresql_only"
    keep = [item for item in items if item.get_closest_marker(other) is None]
    if len(keep) < len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in keep])
        items[:] = keep


def pytest_sessionfinish(session: pytest.Session) -> None:
    if engines.on_postgresql():
        asyncio.run(engines.drop_template())


@pytest.fixture(autouse=True)
def _postgresql_databases() -> Iterator[None]:
    """On PostgreSQL, the databases a test made are dropped when it ends."""
    yield
    if engines.on_postgresql():
        asyncio.run(engines.drop_all())


@pytest.fixture(scope="session")
def geo_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder of the cached place index (SANCTUARY_CACHE_DIR for a bot in a subprocess)."""
    return tmp_path_factory.mktemp("geo-cache")


@pytest.fixture(scope="session")
def gazetteer(geo_cache: Path) -> Gazetteer:
    """GB places, built once per test session."""
    return Gazetteer.load(geo_cache)


@pytest.fixture(scope="session")
def outcodes() -> Outcodes:
    """The shared postcode-district centroids (beside the repository, as in CI)."""
    if not OUTCODES_CSV.is_file():
        missing = (
            f"shared postcode data not found at {OUTCODES_CSV} (../shared/data beside the clone)"
        )
        if os.environ.get("CI"):
            pytest.fail(missing + ": CI must have it", pytrace=False)
        pytest.skip(missing)
    return Outcodes.from_csv(OUTCODES_CSV)


@pytest.fixture(scope="session", autouse=True)
def catalogs() -> None:
    """Compiled catalogs (make test compiles them first)."""
    load_catalogs()


async def seed_test_data(db: Database) -> None:
    """Load tests/data.py into the database."""
    groups = parse_groups(GROUPS_CSV)
    async with db.transaction() as conn:
        await GroupRepository.upsert_many(conn, groups)
    items = parse_activities(ACTIVITIES_CSV, {g.ref: g.timezone for g in groups})
    refs = await GroupRepository(db).refs()
    async with db.transaction() as conn:
        await ActivityRepository.upsert_many(conn, items, refs)


@dataclass
class Harness:
    """A running bot, its fake Bot API server and its services."""

    server: FakeBotAPI
    app: App
    services: Services
    processor: TrackingUpdateProcessor
    chats: dict[int, Conversation] = field(default_factory=dict)
    web: Running | None = None  # the web server and webhook, when started with them

    @property
    def web_url(self) -> str:
        """http://127.0.0.1:PORT of the web server."""
        assert self.web is not None and self.web.server is not None
        return f"http://127.0.0.1:{self.web.server.port}"

    def chat(
        self, user_id: int = 1001, language_code: str | None = "en", first_name: str = "Test"
    ) -> Conversation:
        """A person talking to the bot in a private chat (named at their first chat)."""
        if user_id not in self.chats:
            user = self.server.user(user_id, first_name=first_name, language_code=language_code)
            self.chats[user_id] = Conversation(
                self.server, user, self.processor.wait_processed, settle=self.delivered
            )
        return self.chats[user_id]

    async def row(self, sql: str, *params: object) -> tuple[object, ...] | None:
        """One database row, to assert on what is stored."""
        async with self.services.db.conn.execute(sql, params) as cur:
            found = await cur.fetchone()
        return tuple(found) if found is not None else None

    async def delivered(self, chat_id: int | None = None) -> None:
        """Wait until the outbox has sent what is due for a chat, or for every chat when none
        is named (it sends on its own time): only then is "nothing more was sent" true."""

        async def none_left() -> bool:
            which = "" if chat_id is None else "chat_id = ? AND "
            left = await self.row(
                f"SELECT COUNT(*) FROM outbox WHERE {which}"
                "(state = 'sending' OR (state = 'pending' AND not_before <= ?))",
                *([] if chat_id is None else [chat_id]),
                to_db(self.services.now()),
            )
            return left == (0,)

        whose = "any chat" if chat_id is None else f"chat {chat_id}"
        await eventually(none_left, 10.0, lambda: f"the outbox still holds messages for {whose}")


async def start_bot(
    tmp_path: Path,
    gazetteer: Gazetteer,
    outcodes: Outcodes | None,
    server: FakeBotAPI | None = None,
    *,
    web: Literal["polling", "webhook"] | None = None,
    public_url: str | None = None,
    chat_gap_s: float = 0.05,
) -> AsyncIterator[Harness]:
    """Start the whole bot against a fake server (a fresh one unless given) and the database
    in ``tmp_path``: seeded when new, as it was left when started again. With ``web``, as
    ``sanctuary-bot run`` starts it, with its web server on a free port: polling, or taking
    updates on its webhook (``WEBHOOK_SECRET``). ``public_url``: SANCTUARY_PUBLIC_URL (the map).
    ``chat_gap_s``: the gap between two messages to one person, short here (Telegram's second
    would make every further message of a test wait a second: tests/test_send_budget.py keeps
    it, and checks it)."""
    async with AsyncExitStack() as stack:
        if server is None:
            server = await stack.enter_async_context(FakeBotAPI())
        sock = None
        if web is not None:
            sock = stack.enter_context(socket.socket())
            sock.bind(("127.0.0.1", 0))
        hook_url = None
        if web == "webhook":
            assert sock is not None
            hook_url = f"http://127.0.0.1:{sock.getsockname()[1]}{WEBHOOK_PATH}"
        config = Config(
            token="123456:TEST-token",
            api_url=server.base_url,
            db_path=tmp_path / "bot.db",
            cache_dir=tmp_path / "cache",
            outcodes_path=OUTCODES_CSV if outcodes is not None else None,
            webhook_url=hook_url,
            webhook_secret=WEBHOOK_SECRET if hook_url else None,
            public_url=public_url,
            chat_gap_s=chat_gap_s,
        )
        new = not engines.exists(config.db_path)
        services = await Services.create(config, gazetteer=gazetteer, outcodes=outcodes)
        services.clock = lambda: NOW
        if new:
            await seed_test_data(services.db)
        await services.directory.refresh(force=True)
        processor = TrackingUpdateProcessor()
        app = build_app(config, services=services, processor=processor)
        try:
            if sock is not None:
                async with serving(app, config, sock=sock, poll_timeout=1) as started:
                    yield Harness(server, app, services, processor, web=started)
            else:
                async with running(app):
                    yield Harness(server, app, services, processor)
        finally:
            await services.close()


@pytest.fixture
async def bot(tmp_path: Path, gazetteer: Gazetteer, outcodes: Outcodes) -> AsyncIterator[Harness]:
    """The bot with postcode districts loaded."""
    async for harness in start_bot(tmp_path, gazetteer, outcodes):
        yield harness


@pytest.fixture
async def mapped(
    tmp_path: Path, gazetteer: Gazetteer, outcodes: Outcodes
) -> AsyncIterator[Harness]:
    """The bot with its web server and a public address (SANCTUARY_PUBLIC_URL): the map."""
    async for harness in start_bot(
        tmp_path, gazetteer, outcodes, web="polling", public_url=PUBLIC_URL
    ):
        yield harness


@pytest.fixture
async def bot_no_postcodes(tmp_path: Path, gazetteer: Gazetteer) -> AsyncIterator[Harness]:
    """The bot without SANCTUARY_OUTCODES."""
    async for harness in start_bot(tmp_path, gazetteer, None):
        yield harness
