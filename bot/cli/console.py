"""The console demo: chat with the real bot in a terminal.

The same application and handlers run against an in-process stand-in for the Bot API
(bot.cli.console_api) on 127.0.0.1; you type as the user, and the bot's messages are printed
with their buttons numbered.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from dataclasses import replace
from typing import TextIO

from bot.app import TrackingUpdateProcessor, build_app, running
from bot.cli.console_api import ConsoleBotAPI, Message
from bot.config import Config
from bot.services import Services, load_outcodes
from storage.roles import ADMIN

HELP = """\
You are chatting with sanctuary-bot as a test user. Type as you would in Telegram:
  /start, /find, /groups, /language, /help, /privacy   or a town, city or postcode
  #N                 press button N of the last message with buttons (e.g. #2)
  :loc LAT LON       share a location (e.g. :loc 53.80 -1.55 for Leeds)
  :admin REF         make yourself an admin of a sample group (e.g. :admin leeds), then try
                     /newactivity, /myactivities, /moderate, /invite, /team
  :help              this help          :quit   leave (Ctrl-D works too)
"""


def render(message: Message, out: TextIO) -> None:
    """Print one bot message with its numbered buttons."""
    edited = " (edited)" if message.edits else ""
    if message.kind == "venue":
        print(f"🤖 📍 {message.text} ({message.lat:.5f}, {message.lon:.5f})", file=out)
    elif message.kind == "document" and message.document is not None:
        name, data = message.document
        print(f"🤖 📎 {name} ({len(data)} bytes) {message.plain_text()}", file=out)
    else:
        print(f"🤖{edited}\n{message.plain_text()}", file=out)
    number = 0
    for row in message.buttons():
        labels = []
        for text, _data in row:
            number += 1
            labels.append(f"[{number}] {text}")
        print("   " + "   ".join(labels), file=out)
    for key in message.reply_keys():
        if key.get("request_location"):
            print(f"   ({key.get('text')}: type :loc LAT LON)", file=out)
    print(file=out)


class _Chat:
    """The person at the keyboard talking to the bot: each line an update, and what the bot
    sent meanwhile."""

    def __init__(
        self, server: ConsoleBotAPI, processor: TrackingUpdateProcessor, out: TextIO
    ) -> None:
        self.server = server
        self.processor = processor
        self.out = out
        self.shown = server.mark()

    def show_new(self) -> None:
        """Print what the bot sent or edited since last shown: the answer to a line, or what
        it sent on its own time (reminders, notices) while the person was typing."""
        for message in self.server.since(self.shown):
            render(message, self.out)
        self.shown = self.server.mark()

    async def answer(self, update_id: int) -> None:
        """Wait until the bot has handled the update, then print what it sent or edited."""
        await self.processor.wait_processed(update_id)
        self.show_new()

    async def press(self, number: int) -> None:
        message = self.server.last_with_buttons()
        if message is None:
            print("(no buttons to press)", file=self.out)
            return
        flat = [data for row in message.buttons() for _text, data in row]
        if not 1 <= number <= len(flat) or flat[number - 1] is None:
            print(f"(choose a button from 1 to {len(flat)})", file=self.out)
            return
        popups = len(self.server.popups)
        pressed = self.server.press(message.message_id, str(flat[number - 1]))
        await self.processor.wait_processed(pressed)
        for text in self.server.popups[popups:]:
            print(f"💬 {text}", file=self.out)  # Telegram's pop-up after a button
        self.show_new()


async def run_console(
    config: Config, stdin: TextIO = sys.stdin, out: TextIO = sys.stdout, language: str = "en"
) -> int:
    """Run the demo until :quit or end of input."""
    from bot.cli.demo import seed_demo

    outcodes = load_outcodes(config)
    user_id = 424242
    async with ConsoleBotAPI(user_id, first_name="Demo", language_code=language) as server:
        processor = TrackingUpdateProcessor()
        demo_config = replace(config, api_url=server.base_url, token=None)
        services = await Services.create(demo_config, outcodes=outcodes)
        try:
            if await services.groups.count() == 0:
                groups, activities = await seed_demo(services.db)
                await services.directory.refresh(force=True)
                print(f"(sample data loaded: {groups} groups, {activities} activities)", file=out)
            app = build_app(demo_config, services=services, processor=processor)
            async with running(app):
                chat = _Chat(server, processor, out)
                print(HELP, file=out)
                lines = _typed_lines(stdin)
                while True:
                    print("you> ", end="", file=out, flush=True)
                    line = await lines.get()
                    if not line:
                        break
                    line = line.strip()
                    if not line:
                        continue
                    if line in (":quit", ":q", ":exit"):
                        break
                    if line == ":help":
                        print(HELP, file=out)
                        continue
                    if line.startswith(":admin"):
                        await _make_admin(services, user_id, line, out)
                        continue
                    await _handle(chat, line)
        finally:
            await services.close()
    print("bye", file=out)
    return 0


def _typed_lines(stdin: TextIO) -> asyncio.Queue[str]:
    """The lines typed, as they come; "" at the end of input.

    Read by a daemon thread, not the event loop's executor: Ctrl-C then ends the demo at once
    (the loop is not left waiting for a read that only Enter would finish), and the thread
    still blocked in it ends with the process.
    """
    loop = asyncio.get_running_loop()
    lines: asyncio.Queue[str] = asyncio.Queue()

    def read() -> None:
        while True:
            line = stdin.readline()
            try:
                loop.call_soon_threadsafe(lines.put_nowait, line)
            except RuntimeError:  # the demo ended meanwhile: its loop is closed
                return
            if not line:
                return

    threading.Thread(target=read, name="console-input", daemon=True).start()
    return lines


async def _make_admin(services: Services, user_id: int, line: str, out: TextIO) -> None:
    """:admin REF: the demo user becomes an admin of a sample group (audited as the CLI)."""
    ref = line.removeprefix(":admin").strip().lower()
    group_id = (await services.groups.refs()).get(ref)
    if group_id is None:
        print("(usage: :admin REF, a group ref such as leeds, sheffield, glasgow)", file=out)
        return
    await services.roles.grant(user_id, ADMIN, group_id, None, services.now())
    print(f"(you are now an admin of {ref})", file=out)


async def _handle(chat: _Chat, line: str) -> None:
    chat.show_new()
    if line.startswith("#") and line[1:].strip().isdigit():
        await chat.press(int(line[1:].strip()))
    elif line.startswith(":loc"):
        parts = line.split()
        try:
            lat, lon = float(parts[1]), float(parts[2])
        except (IndexError, ValueError):
            print("(usage: :loc LAT LON, e.g. :loc 53.80 -1.55)", file=chat.out)
            return
        await chat.answer(chat.server.share_location(lat, lon))
    else:
        await chat.answer(chat.server.send_text(line))
