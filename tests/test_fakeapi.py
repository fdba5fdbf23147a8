"""Tests for the fake Telegram Bot API server, mostly through a real python-telegram-bot client."""

from __future__ import annotations

import asyncio
import datetime as dtm
import threading
import time
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InlineQueryResultsButton,
    InputTextMessageContent,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    TypeHandler,
)
from telegram.request import HTTPXRequest

from tests.fakeapi import (
    ApiCall,
    Conversation,
    FakeBotAPI,
    SentMessage,
    html_error,
    html_to_plain,
)
from tests.fakeapi.witness import LimitsWitness

TOKEN = "123:ABC"
# PTB warns about RetryAfter.retry_after becoming a timedelta; irrelevant here.
no_retry_after_warning = pytest.mark.filterwarnings(
    "ignore::telegram.warnings.PTBDeprecationWarning"
)
CHAT = 4242
# "Returns promptly instead of waiting": the wait it must not sit out is LONG; PROMPT, far
# below it and far above any slow machine, is how long a test gives it (no tight bounds).
LONG = 600.0
PROMPT = 30.0


def local_request(read_timeout: float = 5.0) -> HTTPXRequest:
    """A PTB request object for plain HTTP on 127.0.0.1 (skips building a TLS context: faster)."""
    return HTTPXRequest(read_timeout=read_timeout, httpx_kwargs={"verify": False})


def keyboard(*pairs: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(t, callback_data=d)] for t, d in pairs])


def seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


@pytest.fixture
async def server() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI() as srv:
        yield srv


@pytest.fixture
async def tg(server: FakeBotAPI) -> AsyncIterator[Bot]:
    async with Bot(
        TOKEN,
        base_url=server.base_url,
        base_file_url=server.base_file_url,
        request=local_request(),
        get_updates_request=local_request(),
    ) as b:
        yield b


# --------------------------------------------------------------------------- basics


async def test_urls_use_loopback_and_random_port(server: FakeBotAPI) -> None:
    assert server.port > 0
    assert server.base_url == f"http://127.0.0.1:{server.port}/bot"
    assert server.base_file_url == f"http://127.0.0.1:{server.port}/file/bot"


async def test_get_me_through_ptb(server: FakeBotAPI, tg: Bot) -> None:
    assert tg.id == 1000
    assert tg.username == "sanctuary_demo_bot"
    assert tg.first_name == "Sanctuary (demo)"
    assert server.calls[0].method == "getMe"


async def test_send_message_round_trip_and_recording(server: FakeBotAPI, tg: Bot) -> None:
    markup = keyboard(("Yes", "y"), ("No", "n"))
    first = await tg.send_message(CHAT, "<b>Hello</b> &amp; welcome", parse_mode="HTML")
    second = await tg.send_message(CHAT, "Choose", reply_markup=markup)
    assert (first.message_id, second.message_id) == (1, 2)
    assert first.chat.id == CHAT and first.chat.type == "private"
    assert first.from_user is not None and first.from_user.id == 1000
    assert first.text == "Hello & welcome"
    assert second.reply_markup == markup
    call = server.calls[-1]
    assert (call.method, call.chat_id, call.status) == ("sendMessage", CHAT, 200)
    assert call.params["text"] == "Choose"
    assert call.result["message_id"] == 2
    sent = server.messages(CHAT)
    assert [m.kind for m in sent] == ["text", "text"]
    assert sent[0].parse_mode == "HTML" and sent[0].plain_text() == "Hello & welcome"
    assert sent[1].buttons() == [[("Yes", "y", None)], [("No", "n", None)]]
    assert sent[1].button_data("No") == "n"
    with pytest.raises(AssertionError, match="Yes"):
        sent[1].button_data("Maybe")


async def test_raw_json_get_and_case_insensitive_methods(server: FakeBotAPI) -> None:
    base = f"{server.base_url}{TOKEN}"
    async with httpx.AsyncClient() as client:
        sent = await client.post(f"{base}/SENDMESSAGE", json={"chat_id": "7", "text": "hi"})
        me = await client.get(f"{base}/getme")
        other = await client.post(f"{base}/setMyDescription", data={"description": "x"})
    assert sent.json()["result"]["chat"]["id"] == 7
    assert me.json() == {"ok": True, "result": me.json()["result"]}
    assert me.json()["result"]["is_bot"] is True
    assert other.json() == {"ok": True, "result": True}
    assert [c.method for c in server.calls] == ["sendMessage", "getMe", "setMyDescription"]
    assert server.calls[-1].params == {"description": "x"}


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    "text",
    [
        "<b>unclosed",
        "<b>bad</i>",
        "</b>",
        "<br>",
        "<div>x</div>",
        "1 < 2",
        "fish & chips",
        "&nbsp;",
        '<span class="x">s</span>',
    ],
)
async def test_bad_html_is_rejected(server: FakeBotAPI, tg: Bot, text: str) -> None:
    with pytest.raises(BadRequest, match="parse entities"):
        await tg.send_message(CHAT, text, parse_mode=ParseMode.HTML)
    assert server.calls[-1].status == 400
    assert server.messages(CHAT) == []


def test_html_checker_accepts_telegram_html() -> None:
    good = (
        "<b>b</b><strong>s</strong><i>i</i><em>e</em><u>u</u><ins>n</ins><s>s</s>"
        '<strike>k</strike><del>d</del><a href="https://x.org/?a=1&amp;b=2">l</a>'
        '<code>c</code><pre><code class="language-py">p</code></pre><tg-spoiler>t</tg-spoiler>'
        '<span class="tg-spoiler">sp</span><blockquote expandable>q</blockquote>'
        "&lt;&gt;&amp;&quot;&#65;&#x42; 2 > 1"
    )
    assert html_error(good) is None
    assert html_to_plain("<b>a</b> &lt;b&gt; &amp;amp; &#65;") == "a <b> &amp; A"


async def test_plain_text_is_not_checked_as_html(tg: Bot) -> None:
    message = await tg.send_message(CHAT, "1 < 2 & <b>")
    assert message.text == "1 < 2 & <b>"


async def test_text_length_limits(server: FakeBotAPI, tg: Bot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await tg.send_message(CHAT, "  ")
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await tg.send_message(CHAT, "x" * 4097)
    # The limit applies to the text after HTML parsing.
    await tg.send_message(CHAT, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")
    assert len(server.messages(CHAT)) == 1


async def test_callback_data_over_64_bytes_rejected(server: FakeBotAPI, tg: Bot) -> None:
    too_long = "é" * 33  # 66 bytes in UTF-8, only 33 characters
    with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
        await tg.send_message(CHAT, "x", reply_markup=keyboard(("A", too_long)))
    assert server.calls[-1].result["description"] == "Bad Request: BUTTON_DATA_INVALID"
    await tg.send_message(CHAT, "x", reply_markup=keyboard(("A", "é" * 32)))
    assert len(server.messages(CHAT)) == 1


async def test_too_many_buttons_and_text_only_buttons(tg: Bot) -> None:
    many = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(str(i), callback_data=str(i)) for i in range(r, r + 8)]
            for r in range(0, 104, 8)
        ]
    )
    with pytest.raises(BadRequest, match=r"(?i)too many"):
        await tg.send_message(CHAT, "x", reply_markup=many)
    with pytest.raises(BadRequest, match=r"(?i)unallowed"):
        await tg.send_message(
            CHAT, "x", reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("t")]])
        )
    with pytest.raises(BadRequest, match=r"(?i)url"):
        await tg.send_message(
            CHAT, "x", reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("u", url="x")]])
        )


async def test_edits_are_counted_and_validated(server: FakeBotAPI, tg: Bot) -> None:
    sent = await tg.send_message(CHAT, "one", reply_markup=keyboard(("A", "a")))
    mark = server.mark()
    await tg.edit_message_text("two", CHAT, sent.message_id, reply_markup=keyboard(("B", "b")))
    with pytest.raises(BadRequest, match="not modified"):
        await tg.edit_message_text("two", CHAT, sent.message_id, reply_markup=keyboard(("B", "b")))
    await tg.edit_message_reply_markup(CHAT, sent.message_id, reply_markup=None)
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await tg.edit_message_text("x", CHAT, 99)
    other = await tg.send_message(CHAT, "three")
    (stored, new) = server.messages_since(CHAT, mark)
    assert (stored.message_id, stored.text, stored.edits, stored.reply_markup) == (
        1,
        "two",
        2,
        None,
    )
    assert new.message_id == other.message_id
    assert [c.method for c in server.calls].count("editMessageText") == 3
    assert server.messages(CHAT)[0].edits == 2


async def test_delete_message(server: FakeBotAPI, tg: Bot) -> None:
    sent = await tg.send_message(CHAT, "bye")
    assert await tg.delete_message(CHAT, sent.message_id) is True
    assert server.messages(CHAT)[0].deleted
    with pytest.raises(BadRequest, match=r"(?i)to delete not found"):
        await tg.delete_message(CHAT, sent.message_id)
    with pytest.raises(BadRequest, match=r"(?i)to edit not found"):
        await tg.edit_message_text("again", CHAT, sent.message_id)


async def test_venue_location_and_commands(server: FakeBotAPI, tg: Bot) -> None:
    venue = await tg.send_venue(CHAT, 53.48, -2.24, "Drop-in", "1 Main St, Manchester")
    assert venue.venue is not None and venue.venue.title == "Drop-in"
    await tg.send_location(CHAT, 51.5, -0.12)
    await tg.send_chat_action(CHAT, "typing")
    stored = server.messages(CHAT)
    assert [m.kind for m in stored] == ["venue", "location"]
    assert stored[0].text == "Drop-in\n1 Main St, Manchester"
    assert (stored[1].lat, stored[1].lon) == (51.5, -0.12)
    assert (stored[0].latitude, stored[0].longitude) == (53.48, -2.24)
    await tg.set_my_commands([BotCommand("start", "Start"), BotCommand("help", "Help")])
    await tg.set_my_commands([BotCommand("start", "Anfang")], language_code="de")
    assert [c["command"] for c in server.commands[""]] == ["start", "help"]
    assert server.commands["de"] == [{"command": "start", "description": "Anfang"}]
    assert [c.description for c in await tg.get_my_commands(language_code="de")] == ["Anfang"]
    with pytest.raises(BadRequest, match=r"(?i)bot_command_invalid"):
        await tg.set_my_commands([BotCommand("Bad-Name", "x")])


async def test_send_document_multipart_upload(server: FakeBotAPI, tg: Bot) -> None:
    message = await tg.send_document(
        CHAT,
        document=b"BEGIN:VCALENDAR",
        filename="event.ics",
        caption="<i>Your event</i>",
        parse_mode="HTML",
    )
    assert message.document is not None and message.document.file_name == "event.ics"
    assert message.caption == "Your event"
    (stored,) = server.messages(CHAT)
    assert stored.kind == "document"
    assert stored.document == ("event.ics", b"BEGIN:VCALENDAR")
    assert stored.plain_text() == "Your event"
    # Resending by file_id reuses the stored file; the download URL serves the bytes.
    await tg.send_document(CHAT, document=message.document.file_id)
    assert server.messages(CHAT)[1].document == ("event.ics", b"BEGIN:VCALENDAR")
    file = await tg.get_file(message.document.file_id)
    assert bytes(await file.download_as_bytearray()) == b"BEGIN:VCALENDAR"


async def test_attach_uri_upload(server: FakeBotAPI) -> None:
    async with httpx.AsyncClient() as client:
        reply = await client.post(
            f"{server.base_url}{TOKEN}/sendPhoto",
            data={"chat_id": "5", "photo": "attach://pic"},
            files={"pic": ("p.jpg", b"\xff\xd8", "image/jpeg")},
        )
    assert reply.json()["ok"] is True
    (stored,) = server.messages(5)
    assert (stored.kind, stored.document) == ("photo", ("p.jpg", b"\xff\xd8"))


# --------------------------------------------------------------------------- faults


@no_retry_after_warning
async def test_429_fault_surfaces_as_retry_after(server: FakeBotAPI, tg: Bot) -> None:
    server.fail_next("sendMessage", kind="429", retry_after=7)
    with pytest.raises(RetryAfter) as info:
        await tg.send_message(CHAT, "x")
    assert seconds(info.value) == 7
    assert server.calls[-1].status == 429
    await tg.send_message(CHAT, "x")  # the fault fired once only
    assert [m.message_id for m in server.messages(CHAT)] == [1]


async def test_faults_match_method_chat_and_count(server: FakeBotAPI, tg: Bot) -> None:
    server.fail_next(kind="500", count=2, chat_id=CHAT)
    await tg.send_message(CHAT + 1, "other chat is fine")
    await tg.get_me()  # infrastructure calls are not hit by method=None
    for _ in range(2):
        with pytest.raises(NetworkError, match="Internal Server Error"):
            await tg.send_message(CHAT, "x")
    await tg.send_message(CHAT, "x")
    with pytest.raises(ValueError, match="unknown fault kind"):
        server.fail_next(kind="418")
    server.fail_next("sendLocation", kind="502")
    await tg.send_message(CHAT, "not a location")
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await tg.send_location(CHAT, 1.0, 2.0)


async def test_403_fault_and_block(server: FakeBotAPI, tg: Bot) -> None:
    server.fail_next(kind="403")
    with pytest.raises(Forbidden, match="blocked"):
        await tg.send_message(CHAT, "x")
    server.block(CHAT)
    with pytest.raises(Forbidden):
        await tg.send_message(CHAT, "x")
    with pytest.raises(Forbidden):
        await tg.send_chat_action(CHAT, "typing")
    server.unblock(CHAT)
    await tg.send_message(CHAT, "x")
    assert len(server.messages(CHAT)) == 1


async def test_migrate_fault(server: FakeBotAPI, tg: Bot) -> None:
    server.fail_next(kind="migrate")
    with pytest.raises(ChatMigrated) as info:
        await tg.send_message(-123, "x")
    assert info.value.new_chat_id == -1000000000123


async def test_timeout_fault_and_quick_stop(server: FakeBotAPI) -> None:
    server.timeout_hold = LONG
    server.fail_next("sendMessage", kind="timeout")
    request = local_request(read_timeout=0.3)
    async with Bot(
        TOKEN, base_url=server.base_url, request=request, get_updates_request=local_request()
    ) as slow:
        with pytest.raises(TimedOut):  # its own read limit, not the server's long hold
            await asyncio.wait_for(slow.send_message(CHAT, "x"), PROMPT)
        assert server.calls[-1].status == 0
        assert server.messages(CHAT) == []
        # A second request, willing to wait out the hold, is held again: stop() ends it.
        server.fail_next("sendMessage", kind="timeout")
        held = asyncio.create_task(slow.send_message(CHAT, "y", read_timeout=LONG))
        await server.wait_for_call(lambda c: c.status == 0, since=len(server.calls))
        await asyncio.wait_for(server.stop(), PROMPT)
        with pytest.raises(NetworkError):
            await asyncio.wait_for(held, PROMPT)


# --------------------------------------------------------------------------- updates


async def test_long_poll_returns_when_update_arrives(server: FakeBotAPI, tg: Bot) -> None:
    user = server.user(77)
    assert not server.polling
    poll = asyncio.create_task(tg.get_updates(timeout=LONG))
    await server.wait_polling(timeout=PROMPT)
    update_id = user.send_text("hello")
    updates = await asyncio.wait_for(poll, PROMPT)  # at once, not after the long poll
    assert [u.update_id for u in updates] == [update_id]
    assert updates[0].message is not None and updates[0].message.text == "hello"


async def test_long_poll_times_out_with_empty_list(tg: Bot) -> None:
    started = time.monotonic()
    poll = tg.get_updates(timeout=dtm.timedelta(seconds=0.2))
    assert await asyncio.wait_for(poll, PROMPT) == ()
    assert time.monotonic() - started > 0.15  # it waited for updates first


async def test_offsets_confirm_updates(server: FakeBotAPI, tg: Bot) -> None:
    user = server.user(77)
    ids = [user.send_text(f"m{i}") for i in range(3)]
    assert ids == [1, 2, 3]
    assert [u.update_id for u in await tg.get_updates(limit=2)] == [1, 2]
    assert [u.update_id for u in await tg.get_updates(offset=2)] == [2, 3]
    await server.wait_confirmed(1, timeout=0.5)
    with pytest.raises(TimeoutError, match="update 2 not confirmed"):
        await server.wait_confirmed(2, timeout=0.05)
    assert await tg.get_updates(offset=4) == ()
    await server.wait_confirmed(3, timeout=0.5)


async def test_stop_ends_long_poll(server: FakeBotAPI, tg: Bot) -> None:
    poll = asyncio.create_task(tg.get_updates(timeout=LONG))
    await server.wait_polling(timeout=PROMPT)
    await asyncio.wait_for(server.stop(), PROMPT)
    assert await asyncio.wait_for(poll, PROMPT) == ()


async def test_second_long_poll_conflicts_with_first(server: FakeBotAPI) -> None:
    url = f"{server.base_url}{TOKEN}/getUpdates"
    async with httpx.AsyncClient() as client:
        first = asyncio.create_task(client.post(url, json={"timeout": 5}))
        await server.wait_polling(timeout=1)
        second = asyncio.create_task(client.post(url, json={"timeout": 0}))
        async with asyncio.timeout(1):
            answers = [await first, await second]
    assert [a.status_code for a in answers] == [409, 200]
    assert "terminated by other getUpdates" in answers[0].json()["description"]


async def test_allowed_updates_filter(server: FakeBotAPI, tg: Bot) -> None:
    user = server.user(77)
    user.send_text("hi")
    sent = await tg.send_message(77, "menu", reply_markup=keyboard(("A", "a")))
    pressed = user.press("a", sent.message_id)
    updates = await tg.get_updates(allowed_updates=["message"])
    assert [u.update_id for u in updates] == [1]
    with pytest.raises(AssertionError, match="allowed_updates"):
        await server.wait_confirmed(pressed, timeout=0.5)


async def test_fake_user_updates(server: FakeBotAPI, tg: Bot) -> None:
    user = server.user(77, "Sara", "ar")
    user.send_text("/start abc")
    user.send_location(53.4, -2.2)
    sent = await tg.send_message(77, "menu", reply_markup=keyboard(("A", "a")))
    user.press("a", sent.message_id)
    user.block_bot()
    updates = await tg.get_updates()
    command, location, query, member = updates
    assert command.message is not None and command.message.from_user is not None
    assert command.message.from_user.language_code == "ar"
    assert [(e.type, e.offset, e.length) for e in command.message.entities] == [
        ("bot_command", 0, 6)
    ]
    assert location.message is not None and location.message.location is not None
    assert location.message.location.latitude == 53.4
    assert query.callback_query is not None and query.callback_query.data == "a"
    assert query.callback_query.message is not None
    assert query.callback_query.message.message_id == sent.message_id
    assert member.my_chat_member is not None
    assert member.my_chat_member.new_chat_member.status == "kicked"
    assert 77 in server.blocked
    user.unblock_bot()
    assert 77 not in server.blocked
    assert await tg.answer_callback_query(query.callback_query.id, "ok") is True
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await tg.answer_callback_query(query.callback_query.id)
    assert server.calls[-2].chat_id == 77
    with pytest.raises(AssertionError):
        user.press("a", 999)


async def test_wait_for_call_reports_recent_calls(server: FakeBotAPI, tg: Bot) -> None:
    await tg.send_message(CHAT, "hello there")
    found = await server.wait_for_call(lambda c: c.method == "sendMessage")
    assert isinstance(found, ApiCall) and found.params["text"] == "hello there"
    with pytest.raises(TimeoutError, match="hello there"):
        await server.wait_for_call(lambda c: c.method == "sendVenue", timeout=0.05)
    with pytest.raises(TimeoutError):
        await server.wait_for_call(lambda c: c.method == "sendMessage", 0.05, len(server.calls))


@no_retry_after_warning
async def test_enforce_limits_counts_violations(server: FakeBotAPI, tg: Bot) -> None:
    server.enforce_limits(per_second_total=3)
    await tg.send_message(1, "a")
    await tg.send_message(1, "b")  # same private chat within 1 s
    assert server.violations == 1
    await tg.send_message(2, "c")
    await tg.send_message(3, "d")  # fourth send within a second
    assert server.violations == 2
    for _ in range(20):
        await tg.send_chat_action(4, "typing")  # not counted
    assert server.violations == 2
    server.enforce_limits(per_chat_per_second=1, answer_429=True)
    await tg.send_message(5, "e")
    with pytest.raises(RetryAfter):
        await tg.send_message(5, "f")
    assert server.violations == 3


async def test_a_witness_in_its_own_process_counts_the_limits_and_passes_calls_on(
    server: FakeBotAPI,
) -> None:
    async with (
        LimitsWitness(server, per_second_total=3) as witness,
        Bot(TOKEN, base_url=witness.base_url, request=local_request()) as bot,
    ):
        sent = await bot.send_message(1, "a")
        await bot.send_message(1, "b")  # same private chat within 1 s
        await bot.send_message(2, "c")
        await bot.send_message(3, "d")  # fourth send within a second
        await bot.send_chat_action(4, "typing")  # not counted
        seen = await witness.report()
    assert sent.text == "a"  # the fake Bot API's answer, passed back
    assert [c.chat_id for c in server.calls_to("sendMessage")] == [1, 1, 2, 3]
    assert server.violations == 0  # the fake itself counts nothing
    assert [(s.method, s.chat_id, s.status) for s in seen.sends] == [
        ("sendmessage", chat, 200) for chat in (1, 1, 2, 3)
    ]
    assert len(seen.violations) == 2
    assert "chat 1:" in seen.violations[0]
    assert "more than 3 sends in 1 s" in seen.violations[1]


async def test_a_witness_times_calls_as_they_arrive_while_the_fake_is_held_up(
    server: FakeBotAPI,
) -> None:
    """The fake Bot API's loop is held up while three calls come from threads 0.3 s apart:
    the fake takes them all after, the witness as they came."""

    async with LimitsWitness(server) as witness:

        def send(chat: int, after_s: float) -> None:
            time.sleep(after_s)
            httpx.post(
                f"{witness.base_url}{TOKEN}/sendMessage", json={"chat_id": chat, "text": "x"}
            )

        threads = [threading.Thread(target=send, args=(n, 0.3 * n)) for n in range(3)]
        for thread in threads:
            thread.start()
        time.sleep(1.0)  # noqa: ASYNC251 (on purpose: the fake's loop is held up)
        woke = time.monotonic()
        await asyncio.get_running_loop().run_in_executor(None, lambda: [t.join() for t in threads])
        seen = await witness.report()
    assert all(c.at >= woke for c in server.calls_to("sendMessage"))
    arrived = [s.at for s in seen.sends]
    assert len(arrived) == 3 and arrived[1] < woke
    assert arrived[2] - arrived[0] >= 0.5
    assert seen.violations == []


async def test_enforce_limits_groups_per_minute(server: FakeBotAPI, tg: Bot) -> None:
    server.enforce_limits(per_second_total=1000, per_group_per_minute=3)
    for i in range(4):
        await tg.send_message(-100, str(i))
    assert server.violations == 1


# --------------------------------------------------------------------------- with a real app


async def _start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(
        "<b>Welcome!</b>", parse_mode="HTML", reply_markup=keyboard(("Find a group", "find"))
    )


async def _button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer()
    await query.edit_message_text(f"You chose {query.data}")


@pytest.fixture
async def app_done(server: FakeBotAPI) -> AsyncIterator[dict[int, asyncio.Event]]:
    """A polling PTB Application; yields update_id -> event set once all handlers ran."""
    done: dict[int, asyncio.Event] = {}

    async def finished(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        done.setdefault(update.update_id, asyncio.Event()).set()

    application = (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(server.base_url)
        .base_file_url(server.base_file_url)
        .request(local_request())
        .get_updates_request(local_request())
        .build()
    )
    application.add_handler(CommandHandler("start", _start))
    application.add_handler(CallbackQueryHandler(_button))
    application.add_handler(TypeHandler(Update, finished), group=1)
    async with application:
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0)
        await application.start()
        yield done
        await application.updater.stop()
        await application.stop()


def _processed(done: dict[int, asyncio.Event]) -> Callable[[int], Awaitable[None]]:
    """Waits until the application has handled an update (for Conversation)."""

    async def processed(update_id: int) -> None:
        async with asyncio.timeout(3):
            await done.setdefault(update_id, asyncio.Event()).wait()

    return processed


async def test_application_answers_start_through_conversation(
    server: FakeBotAPI, app_done: dict[int, asyncio.Event]
) -> None:
    processed = _processed(app_done)
    conversation = Conversation(server, server.user(501), processed)
    (welcome,) = await conversation.send("/start")
    assert welcome.plain_text() == "Welcome!"
    assert conversation.last == welcome == conversation.last_with_buttons()
    (edited,) = await conversation.press("Find")
    assert (edited.message_id, edited.text, edited.edits) == (
        welcome.message_id,
        "You chose find",
        1,
    )
    assert edited.reply_markup is None
    assert len(server.callback_answers) == 1
    assert await conversation.send("no handler for plain text") == []
    (again,) = await conversation.press_data("forged", welcome.message_id)
    assert again.text == "You chose forged"
    assert isinstance(again, SentMessage)


async def test_a_message_sent_while_settling_is_not_a_reply(
    server: FakeBotAPI, app_done: dict[int, asyncio.Event]
) -> None:
    """What arrives on its own time (an outbox) before an action is not counted as its reply."""
    processed = _processed(app_done)
    settled: list[int] = []

    async def settle(chat_id: int) -> None:
        async with httpx.AsyncClient() as client:
            sent = await client.post(
                f"{server.base_url}{TOKEN}/sendMessage",
                json={"chat_id": chat_id, "text": "A notice, sent late"},
            )
        assert sent.json()["ok"]
        settled.append(chat_id)

    conversation = Conversation(server, server.user(502), processed, settle=settle)
    (welcome,) = await conversation.send("/start")
    assert welcome.plain_text() == "Welcome!"
    (edited,) = await conversation.press("Find")  # not the notice: it has no buttons
    assert edited.text == "You chose find"
    assert settled == [502, 502]
    assert [m.text for m in server.messages(502)].count("A notice, sent late") == 2


def _article(result_id: str, text: str = "hello") -> InlineQueryResultArticle:
    return InlineQueryResultArticle(result_id, "title", InputTextMessageContent(text))


async def test_inline_queries_are_sent_and_answers_checked_like_telegram(
    server: FakeBotAPI, tg: Bot
) -> None:
    user = server.user(77, "Sara", "ar")
    queued = user.inline_query("Leeds", "group")
    assert await tg.get_updates(allowed_updates=["message"]) == ()  # not asked for: never sent
    server.user(78).inline_query("Leeds")
    updates = await tg.get_updates(allowed_updates=["inline_query"])
    assert queued not in [u.update_id for u in updates]
    query = updates[0].inline_query
    assert query is not None and query.query == "Leeds" and query.from_user.id == 78
    with pytest.raises(BadRequest, match=r"(?i)results_too_much"):
        await tg.answer_inline_query(query.id, [_article(str(i)) for i in range(51)])
    with pytest.raises(BadRequest, match=r"(?i)result_id_invalid"):
        await tg.answer_inline_query(query.id, [_article("x" * 65)])
    with pytest.raises(BadRequest, match=r"(?i)result_id_duplicate"):
        await tg.answer_inline_query(query.id, [_article("a"), _article("a")])
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await tg.answer_inline_query(query.id, [_article("a", "x" * 4097)])
    with pytest.raises(BadRequest, match="parse entities"):
        await tg.answer_inline_query(
            query.id, [InlineQueryResultArticle("a", "t", InputTextMessageContent("<b>", "HTML"))]
        )
    with pytest.raises(BadRequest, match=r"(?i)start_param_invalid"):
        await tg.answer_inline_query(
            query.id, [], button=InlineQueryResultsButton("Open", start_parameter="no spaces")
        )
    fifty = [_article("x" * 64)] + [_article(str(i), "x" * 4096) for i in range(49)]
    assert await tg.answer_inline_query(query.id, fifty, cache_time=300, is_personal=True)
    answer = server.inline_answers[query.id]
    assert len(answer["results"]) == 50 and answer["is_personal"] is True
    assert answer["cache_time"] == 300
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):  # answered once only
        await tg.answer_inline_query(query.id, [])
