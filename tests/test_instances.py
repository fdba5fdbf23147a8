"""Several instances on one database and one (fake) Bot API, in webhook mode behind a small
round-robin front: a conversation goes on from one to the other, an update is handled once,
scheduled work runs once, the leases pass over when their holder stops, the outbox is sent
once within the limits, and each instance's directory follows the others' changes."""

from __future__ import annotations

import itertools
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from bot import callbacks as cb
from bot.app import TrackingUpdateProcessor, build_app
from bot.callbacks import SearchState
from bot.config import Config
from bot.context import App, AppContext
from bot.leases import JOBS, LEASE, RENEW_S, SENDER, Lease
from bot.places.gazetteer import Gazetteer
from bot.places.postcodes import Outcodes
from bot.service import serving
from bot.services import Services
from bot.web.webhook import SECRET_HEADER
from handlers.find import search_page
from storage.db import Database
from storage.leases import LeaseRepository
from storage.outbox import OutboxItem
from storage.roles import ADMIN, VOLUNTEER
from tests.conftest import NOW, OUTCODES_CSV, WEBHOOK_SECRET, Harness, seed_test_data
from tests.fakeapi import Conversation, FakeBotAPI
from tests.helpers import eventually, only, sent
from tests.test_posting import last, quick_post

ADMIN_ID, SEEKER_ID = 8401, 8402
HYDE_PARK = (53.8125, -1.5637)  # LS6 1AA, where quick_post's activity is


class Front:
    """A reverse proxy's upstreams, as small as can be: each update Telegram posts goes to
    the next instance in turn (``order`` may name which), and the front answers what it did."""

    def __init__(self) -> None:
        self.targets: list[str] = []
        self.order: Callable[[int], int] | None = None  # update_id -> instance index
        self.handled_by: dict[int, list[int]] = {}  # update_id -> the instances posted to
        self._turn = itertools.count()
        self._session: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hook", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}/hook"
        self._session = aiohttp.ClientSession()

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        update_id = int((await request.json())["update_id"])
        index = self.order(update_id) if self.order else next(self._turn) % len(self.targets)
        self.handled_by.setdefault(update_id, []).append(index)
        assert self._session is not None
        headers = {SECRET_HEADER: request.headers.get(SECRET_HEADER, "")}
        headers["Content-Type"] = "application/json"
        async with self._session.post(self.targets[index], data=body, headers=headers) as answer:
            return web.Response(status=answer.status)


@dataclass
class Instance:
    """One running instance: its application and services."""

    app: App
    services: Services
    name: str


@dataclass
class Network:
    """Instances sharing one SQLite file, one fake Bot API and one webhook front."""

    server: FakeBotAPI
    front: Front
    instances: list[Instance] = field(default_factory=list)
    now: datetime = NOW  # every instance's clock (the leases' too)

    async def acknowledged(self, update_id: int) -> None:
        """Wait until the webhook answered 200 for the update (some instance handled it)."""
        await eventually(
            lambda: update_id in self.server.webhook_acknowledged,
            10.0,
            lambda: f"update {update_id} not acknowledged: {self.server.describe_calls()}",
        )

    def chat(self, user_id: int, language_code: str = "en") -> Conversation:
        """A person writing to the bot, whichever instance takes each update."""
        user = self.server.user(user_id, language_code=language_code)
        return Conversation(self.server, user, self.acknowledged)

    async def row(self, sql: str, *params: object) -> tuple[object, ...] | None:
        async with self.instances[0].services.db.conn.execute(sql, params) as cur:
            found = await cur.fetchone()
        return tuple(found) if found is not None else None


async def _instance(
    stack: AsyncExitStack,
    tmp_path: Path,
    gazetteer: Gazetteer,
    outcodes: Outcodes,
    server: FakeBotAPI,
    front: Front,
    name: str,
    clock: Callable[[], datetime],
) -> Instance:
    sock = stack.enter_context(socket.socket())
    sock.bind(("127.0.0.1", 0))
    config = Config(
        token="123456:TEST-token",
        api_url=server.base_url,
        db_path=tmp_path / "bot.db",
        cache_dir=tmp_path / "cache",
        outcodes_path=OUTCODES_CSV,
        webhook_url=front.url,
        webhook_secret=WEBHOOK_SECRET,
        instance=name,
    )
    new = not config.db_path.exists()
    services = await Services.create(config, gazetteer=gazetteer, outcodes=outcodes)
    stack.push_async_callback(services.close)
    services.clock = clock
    if new:
        await seed_test_data(services.db)
        await services.directory.refresh(force=True)
    app = build_app(config, services=services, processor=TrackingUpdateProcessor())
    front.targets.append(f"http://127.0.0.1:{sock.getsockname()[1]}/hook")
    await stack.enter_async_context(serving(app, config, sock=sock, poll_timeout=1))
    return Instance(app, services, name)


@pytest.fixture
async def network(
    tmp_path: Path, gazetteer: Gazetteer, outcodes: Outcodes
) -> AsyncIterator[Network]:
    """Two instances, "a" and "b"; "a" started first, so it holds the leases."""
    async with AsyncExitStack() as stack:
        server = await stack.enter_async_context(FakeBotAPI())
        front = Front()
        await front.start()
        stack.push_async_callback(front.stop)
        net = Network(server, front)
        for name in ("a", "b"):
            net.instances.append(
                await _instance(
                    stack, tmp_path, gazetteer, outcodes, server, front, name, lambda: net.now
                )
            )
        yield net


async def test_a_post_is_answered_on_both_instances_and_found_on_both(network: Network) -> None:
    a, b = network.instances
    leeds = (await a.services.groups.refs())["leeds"]
    await a.services.roles.grant(ADMIN_ID, ADMIN, leeds, None, NOW)
    admin = network.chat(ADMIN_ID)
    await admin.send("/start")
    await admin.press_data(cb.ChooseLanguage("en", "s"))
    # Every question of the post is answered on the other instance than the one before.
    preview = await quick_post(admin, "Allotment morning")
    assert "Allotment morning" in preview.plain_text()
    done = last(await admin.press("Publish", preview))
    assert "is published" in done.plain_text()
    turns = [who[0] for _, who in sorted(network.front.handled_by.items())]
    assert turns[:16] == [0, 1] * 8  # each answer went to the other instance
    published = await network.row("SELECT id FROM activities WHERE title = 'Allotment morning'")
    assert published is not None
    # Published on one instance, found on both: the other's directory followed the change.
    for instance in (a, b):
        await eventually(lambda i=instance: published[0] in i.services.directory.activities, 5.0)
    for instance in (a, b):
        found, _next = await search_page(instance.services, SearchState.at(*HYDE_PARK))
        assert "Allotment morning" in [hit.activity.title for hit in found.hits]


async def test_a_place_asked_for_on_one_instance_is_taken_on_the_other(network: Network) -> None:
    chat = network.chat(SEEKER_ID)
    await chat.send("/start")
    await chat.press_data(cb.ChooseLanguage("en", "s"))
    asked = only(await chat.send("/groups"))  # asks for a place: the next one is for groups
    found = only(await chat.send("Leeds"))  # taken by the other instance
    first, then = (network.front.handled_by[u] for u in sorted(network.front.handled_by)[-2:])
    assert first != then
    assert "Where should I look for City of Sanctuary groups?" in asked.plain_text()
    assert "City of Sanctuary groups and Streams of Sanctuary near you" in found.plain_text()


async def test_an_update_posted_again_to_another_instance_is_not_handled_twice(
    network: Network,
) -> None:
    server = network.server
    chat = network.chat(SEEKER_ID)
    await chat.send("/start")
    update = server.updates[-1]
    replies = len(server.messages(SEEKER_ID))
    for target in network.front.targets:  # Telegram posts it again; both say it was handled
        status = await server.post_to_webhook(update, url=target)
        assert status == 200
    assert len(server.messages(SEEKER_ID)) == replies


async def _crash(instance: Instance, *, mid_send: bool = False) -> None:
    """The instance stops renewing its leases and sending, as if killed: nothing given up.
    ``mid_send``: its sender stops at once, a message on its way (not waited for)."""
    services = instance.services
    task = services._lease_task
    assert task is not None
    task.cancel()
    for lease in (services.sender_lease, services.jobs_lease):
        assert lease is not None
        lease._until = None  # what it held is not given up in the database
    if mid_send:
        sending = services._sender_task
        assert sending is not None
        sending.cancel()
        services._sender_task = None
    else:
        await services._stop_sending()


async def test_scheduled_jobs_run_on_one_instance_then_pass_over(network: Network) -> None:
    from bot.app import _plan_reminders

    a, b = network.instances
    assert a.services.runs_jobs() and not b.services.runs_jobs()
    for instance in (a, b):  # each instance's minute job comes
        await _plan_reminders(AppContext(instance.app))
    assert a.services._planner is not None  # it ran on a...
    assert b.services._planner is None  # ...and not on b
    assert await network.row("SELECT holder FROM leases WHERE name = ?", JOBS) == ("a",)

    await _crash(a)
    died = network.now
    while not b.services.runs_jobs():  # b tries every RENEW_S, as its loop does
        network.now += timedelta(seconds=RENEW_S)
        assert network.now - died <= timedelta(seconds=30), "b did not take over in 30 s"
        await b.services.keep_leases()
    assert await network.row("SELECT holder FROM leases WHERE name = ?", JOBS) == ("b",)
    assert not a.services.runs_jobs()
    await _plan_reminders(AppContext(b.app))
    assert b.services._planner is not None


async def test_the_outbox_is_sent_once_within_the_limits_across_a_takeover(
    network: Network,
) -> None:
    a, b = network.instances
    server = network.server
    server.enforce_limits()
    people = range(900_001, 900_041)
    for user_id in people:
        await a.services.users.set_locale(user_id, "en")
    await a.services.users.mark_asked(list(people), NOW)  # "shall I keep your settings?"
    # Queued on b, more than one claim holds, each person's among the first and the last:
    # sent by a (the sender lease's holder) alone, so within one limiter.
    await b.services.outbox.enqueue(
        [OutboxItem("stay", f"seen:{n}", user_id) for n in (1, 2, 3, 4) for user_id in people],
        NOW,
    )
    await eventually(lambda: _sent(server) == 160, 30.0, server.describe_calls)
    assert server.violations == 0, server.violation_log
    assert a.services.sender_alive() and b.services.sender_alive()  # b: a sends for it
    assert b.services._sender_task is None

    await _crash(a)
    await b.services.outbox.enqueue(
        [OutboxItem("stay", "seen:5", user_id) for user_id in people], NOW
    )
    died = network.now
    while b.services._sender_task is None:
        network.now += timedelta(seconds=RENEW_S)
        assert network.now - died <= LEASE + timedelta(seconds=RENEW_S)
        await b.services.keep_leases()
    assert await network.row("SELECT holder FROM leases WHERE name = ?", SENDER) == ("b",)
    await eventually(lambda: _sent(server) == 200, 20.0, server.describe_calls)
    per_chat = [len(server.messages(user_id)) for user_id in people]
    assert per_chat == [5] * 40  # each once
    assert server.violations == 0, server.violation_log

    async def all_marked_sent() -> bool:  # the sender writes 'sent' once Telegram answered
        return await network.row("SELECT COUNT(*) FROM outbox WHERE state != 'sent'") == (0,)

    await eventually(all_marked_sent, 10.0)


def _sent(server: FakeBotAPI) -> int:
    return len([c for c in server.calls_to("sendMessage") if c.status == 200])


async def test_a_lease_passes_over_within_30_s_of_its_holder_stopping(tmp_path: Path) -> None:
    """Two instances' connections to one database, an injected clock, no sleeping."""
    clock = [NOW]
    events: list[str] = []

    def lease(db: Database, name: str) -> Lease:
        async def gained() -> None:
            events.append(f"{name} starts")

        async def lost() -> None:
            events.append(f"{name} stops")

        return Lease(LeaseRepository(db), JOBS, name, lambda: clock[0], gained, lost)

    async with AsyncExitStack() as stack:
        dbs = [await Database.open(tmp_path / "shared.db") for _ in range(2)]
        for db in dbs:
            stack.push_async_callback(db.close)
        a, b = lease(dbs[0], "a"), lease(dbs[1], "b")
        assert await a.renew() and not await b.renew()
        for _ in range(24):  # two minutes of renewals: b never gets it
            clock[0] += timedelta(seconds=RENEW_S)
            assert await a.renew() and not await b.renew()
        assert events == ["a starts"]

        died = clock[0]  # a stops renewing (killed)
        while not await b.renew():
            clock[0] += timedelta(seconds=RENEW_S)
        assert clock[0] - died <= timedelta(seconds=30)
        assert not a.held  # by its own clock a had stopped before b could start
        assert events == ["a starts", "b starts"]

        assert not await a.renew()  # a comes back: b holds it
        await b.release()  # a graceful stop gives it up: taken at the next try
        assert await a.renew()
        assert events == ["a starts", "b starts", "a stops", "b stops", "a starts"]


async def test_a_reminder_asked_for_on_another_instance_is_planned(network: Network) -> None:
    from bot.app import _plan_reminders

    a, b = network.instances
    await _plan_reminders(AppContext(a.app))  # a's planner has looked at everything
    cafe = await network.row("SELECT id FROM activities WHERE title = 'Conversation café'")
    assert cafe is not None
    await b.services.users.set_locale(SEEKER_ID, "en")
    await b.services.reminders.subscribe(SEEKER_ID, int(str(cafe[0])), network.now)
    network.now = NOW + timedelta(hours=6, minutes=1)  # Monday 18:01: a day before Tuesday's
    await a.services.keep_leases()
    await _plan_reminders(AppContext(a.app))  # the next minute's run, on a
    assert await network.row(
        "SELECT kind FROM outbox WHERE chat_id = ? AND subject LIKE ?", SEEKER_ID, f"{cafe[0]}:%"
    ) == ("reminder",)


async def test_a_chat_reachable_again_on_one_instance_is_sent_to_by_the_other(
    network: Network,
) -> None:
    a, b = network.instances
    server = network.server
    assert a.services.sender is not None and b.services.sender is not None
    await a.services.users.set_locale(SEEKER_ID, "en")
    # a's sender met a 403: the person had blocked the bot
    await a.services.outbox.set_unreachable(SEEKER_ID, "blocked", network.now)
    a.services.sender.unreachable.add(SEEKER_ID)
    network.now += timedelta(seconds=RENEW_S)
    await b.services.keep_leases()  # b learns it within a renewal
    assert SEEKER_ID in b.services.sender.unreachable
    network.front.order = lambda _update_id: 1
    chat = network.chat(SEEKER_ID)
    await chat.send("/start")  # they unblocked the bot and wrote: to b
    network.now += timedelta(seconds=RENEW_S)
    await a.services.keep_leases()  # a learns it within a renewal
    await a.services.users.mark_asked([SEEKER_ID], NOW)
    await b.services.outbox.enqueue([OutboxItem("stay", "seen:1", SEEKER_ID)], network.now)
    a.services.sender.wake()
    assert await sent(server, SEEKER_ID, "Shall I keep your settings?")
    assert await network.row(
        "SELECT unreachable FROM chat_status WHERE chat_id = ?", SEEKER_ID
    ) == (0,)


async def test_a_language_chosen_on_one_instance_is_spoken_on_the_other(network: Network) -> None:
    a, b = network.instances
    to = [0]
    network.front.order = lambda _update_id: to[0]
    chat = network.chat(SEEKER_ID)
    await chat.send("/start")
    await chat.press_data(cb.ChooseLanguage("en", "s"))
    await chat.send("/help")
    english = only(await chat.send("/help"))  # a knows them, in English
    to[0] = 1
    await chat.send("/language")
    await chat.press_data(cb.ChooseLanguage("fr", "s"))  # French, chosen on b
    for instance in (a, b):
        await instance.services.users.follow()  # their 1-second job
    to[0] = 0
    french = only(await chat.send("/help"))  # on a
    assert french.plain_text().startswith("Comment ce bot vous aide")
    assert english.plain_text().startswith("How this bot helps")


async def test_a_holder_dying_mid_send_loses_nothing_and_repeats_only_what_was_in_flight(
    network: Network,
) -> None:
    a, b = network.instances
    server = network.server
    people = list(range(900_101, 900_111))
    for user_id in people:
        await a.services.users.set_locale(user_id, "en")
    await a.services.users.mark_asked(people, NOW)
    gate = server.hold("sendMessage")  # the first message stays on its way
    await a.services.outbox.enqueue([OutboxItem("stay", "seen:1", u) for u in people], NOW)
    assert a.services.sender is not None
    a.services.sender.wake()
    await eventually(gate.arrived.is_set, 10.0)
    await _crash(a, mid_send=True)  # a dies: it sends nothing more and renews nothing
    died = network.now
    while b.services._sender_task is None:
        network.now += timedelta(seconds=RENEW_S)
        assert network.now - died <= LEASE + timedelta(seconds=RENEW_S)
        await b.services.keep_leases()
    await eventually(lambda: all(server.messages(u) for u in people), 20.0, server.describe_calls)
    gate.release.set()  # what was in flight arrives after all
    await eventually(lambda: sum(len(server.messages(u)) for u in people) == len(people) + 1, 10.0)
    per_person = sorted(len(server.messages(u)) for u in people)
    assert per_person == [1] * (len(people) - 1) + [2]  # the one in flight, twice; none lost
    assert await network.row("SELECT COUNT(*) FROM outbox WHERE state != 'sent'") == (0,)


async def test_jobs_taken_back_start_afresh_without_a_second_planner(network: Network) -> None:
    from bot.app import _plan_reminders

    a, b = network.instances
    await _plan_reminders(AppContext(a.app))
    planner = a.services._planner
    watchers = len(a.services.directory._watchers)
    for giver, taker in ((a, b), (b, a)):  # a gives the jobs to b, b gives them back
        assert giver.services.jobs_lease is not None
        await giver.services.jobs_lease.release()
        await taker.services.keep_leases()
        assert taker.services.runs_jobs() and not giver.services.runs_jobs()
    assert a.services._planner is planner  # the same planner, looking at everything again
    assert len(a.services.directory._watchers) == watchers
    assert planner is not None and planner._last_run is None


async def test_a_command_menu_changed_on_one_instance_is_set_again_on_the_other(
    network: Network,
) -> None:
    a = network.instances[0]
    to = [0]
    network.front.order = lambda _update_id: to[0]
    leeds = (await a.services.groups.refs())["leeds"]
    await a.services.roles.grant(ADMIN_ID, ADMIN, leeds, None, NOW)
    code = await a.services.roles.create_invite(leeds, ADMIN_ID, NOW)
    volunteer = network.chat(SEEKER_ID)
    await volunteer.send("/start")
    await volunteer.press_data(cb.ChooseLanguage("en", "s"))
    await volunteer.send(f"/start j-{code}")  # on a: their menu gets /newactivity
    assert "newactivity" in _chat_commands(network.server, SEEKER_ID)
    to[0] = 1
    admin = network.chat(ADMIN_ID)
    team = only(await admin.send("/team"))
    await admin.press("Amal", team)  # on b: removed from the team, their menu follows
    assert "newactivity" not in _chat_commands(network.server, SEEKER_ID)
    await a.services.roles.grant(SEEKER_ID, VOLUNTEER, leeds, None, NOW)  # back again
    to[0] = 0
    await volunteer.send("/help")  # on a, which set their menu with /newactivity before
    assert "newactivity" in _chat_commands(network.server, SEEKER_ID)


def _chat_commands(server: FakeBotAPI, user_id: int) -> set[str]:
    return {c["command"] for c in server.commands_for({"type": "chat", "chat_id": user_id})}


async def test_deliver_sends_nothing_while_an_instance_sends(
    bot: Harness, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli.commands import _deliver

    services = bot.services
    await services.stop_sender()  # the instance sends nothing now, so a row stays to be seen
    await services.db.conn.execute(  # ...but holds the lease (its clock is the tests' own)
        "INSERT INTO leases (name, holder, expires_at) VALUES (?, 'web-1', ?)",
        (SENDER, "2999-01-01T00:00:00+00:00"),
    )
    await services.users.set_locale(SEEKER_ID, "en")
    await services.users.mark_asked([SEEKER_ID], NOW)
    await services.outbox.enqueue([OutboxItem("stay", "seen:1", SEEKER_ID)], NOW)
    assert await _deliver(services.config) == 0
    assert "the bot instance web-1 sends the outbox now" in capsys.readouterr().err
    assert bot.server.messages(SEEKER_ID) == []
    await services.leases.release(SENDER, "web-1")  # it stopped: deliver may send
    assert await _deliver(services.config) == 0
    assert "sent 1" in capsys.readouterr().out
    assert len(bot.server.messages(SEEKER_ID)) == 1
    assert await bot.row("SELECT COUNT(*) FROM leases WHERE name = ?", SENDER) == (0,)
