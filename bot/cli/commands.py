"""The ``sanctuary-bot`` command line: run, console, seed-demo, import, export, deliver,
grant, revoke, audit, stats, backup, restore, copy-db, poster."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config import Config, ConfigError
from bot.i18n import CatalogsNotCompiled, load_catalogs
from bot.logs import configure as configure_logging

if TYPE_CHECKING:
    from storage.db import Database

log = logging.getLogger("sanctuary_bot")


def _version() -> str:
    """The installed package's version (from its metadata)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("sanctuary-bot")
    except PackageNotFoundError:  # run from a clone that was never installed
        return "unknown"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sanctuary-bot",
        description="City of Sanctuary Telegram bot. Configuration comes from the environment "
        "(see README.md and .env.example).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser(
        "run",
        help="run the bot (polls Telegram, or its webhook; no TELEGRAM_BOT_TOKEN: the demo)",
        description="Run the bot. With TELEGRAM_BOT_TOKEN set it polls the Bot API at "
        "TELEGRAM_API_URL, or with SANCTUARY_WEBHOOK_URL takes updates on its webhook; "
        "/healthz, /readyz and /metrics are served on SANCTUARY_LISTEN. SIGTERM or SIGINT "
        "stops it gracefully. Without a token it starts the console demo.",
    )
    sub.add_parser(
        "console",
        help="chat with the bot in this terminal (sample data, no Telegram needed)",
        description="An embedded console chat with the bot: same handlers, an in-process "
        "Bot API stand-in, the database at SANCTUARY_DB seeded with sample data if empty.",
    )
    sub.add_parser(
        "seed-demo",
        help="load the bundled sample groups and activities",
        description="Import the bundled sample data (real UK places, example.org contacts) "
        "into SANCTUARY_DB. Existing sample rows are updated.",
    )
    imp = sub.add_parser(
        "import",
        help="import groups or activities from CSV",
        description="Validate and import a CSV file (docs/import-formats.md). Every row is "
        "checked; errors are listed with row numbers and a file with errors imports nothing.",
    )
    imp.add_argument("kind", choices=["groups", "activities"])
    imp.add_argument("file", type=Path)
    exp = sub.add_parser(
        "export",
        help="export groups or activities to CSV",
        description="Write groups or activities in the import format ('-' for standard output).",
    )
    exp.add_argument("kind", choices=["groups", "activities"])
    exp.add_argument("file", help="a file path, or - for standard output")
    sub.add_parser(
        "deliver",
        help="send what is due in the outbox, then exit",
        description="Send every due outbox message within Telegram's limits "
        "(SANCTUARY_SEND_RATE per second) and exit when none is due. The running bot does this "
        "by itself; this is for operators and for recovery after a crash.",
    )
    for name, verb in (("grant", "give"), ("revoke", "take away")):
        role = sub.add_parser(
            name,
            help=f"{verb} a role: network coordinator, or admin of a group",
            description=f"{verb.capitalize()} a role. Coordinators act for the whole network; "
            "a group admin (--group REF, the group's reference in the directory) manages one "
            "group. Every change is written to the audit log.",
        )
        role.add_argument("role", choices=["coordinator", "admin"])
        role.add_argument("telegram_id", type=int, help="the person's numeric Telegram id")
        role.add_argument("--group", metavar="REF", help="the group (admins only)")
    audit = sub.add_parser(
        "audit",
        help="print the latest lines of the audit log",
        description="Role changes, refusals and group-chat settings, newest first.",
    )
    audit.add_argument("--limit", type=int, default=50)
    stats = sub.add_parser(
        "stats",
        help="print the network's figures for a report",
        description="Users by purpose and language, people with roles, alert subscribers, "
        "groups, activities (by status, active now, added by month), reminders sent by month, "
        "campaign calls launched, messages sent and 'I did it' answers by month of launch. "
        "Counts only: no ids.",
    )
    stats.add_argument("--csv", action="store_true", help="CSV for a spreadsheet")
    backup = sub.add_parser(
        "backup",
        help="copy the database to FILE (safe while the bot runs)",
        description="Write a consistent copy of SANCTUARY_DB to FILE with SQLite's online "
        "backup API: safe while the bot runs, which goes on reading and writing. FILE is "
        "replaced only once the copy is complete and checked.",
    )
    backup.add_argument("file", type=Path)
    restore = sub.add_parser(
        "restore",
        help="replace the database by the backup FILE (the bot must be stopped)",
        description="Replace SANCTUARY_DB by the backup FILE, after checking FILE is a "
        "sanctuary-bot database this version can run. Refused while the database is in use: "
        "stop the bot first. Newer migrations run when the bot next starts.",
    )
    restore.add_argument("file", type=Path)
    copy = sub.add_parser(
        "copy-db",
        help="copy every row of database FROM into the empty database TO",
        description="Copy everything from FROM to TO, each a SQLite file or a "
        "postgresql://user:password@host:5432/database URL: to move a network onto "
        "PostgreSQL, or back. TO gets the schema if it has none and must hold no rows; FROM "
        "is brought up to this version's schema first. Rows keep their ids; each table goes "
        "in short transactions. Stop the bot first. Prints both sides' row counts.",
    )
    copy.add_argument("source", metavar="FROM")
    copy.add_argument("target", metavar="TO")
    poster = sub.add_parser(
        "poster",
        help="an A4 PDF poster of a group's coming activities, or of one activity",
        description="Write an A4 PDF for a noticeboard: the group's activities of the coming "
        "four weeks (or one activity, --activity ID) with day, time and place in up to three "
        "languages side by side, and a QR code that opens the bot on them. Needs the 'poster' "
        "extra, and SANCTUARY_BOT_USERNAME or TELEGRAM_BOT_TOKEN for the link.",
    )
    poster.add_argument("group", nargs="?", metavar="GROUP", help="the group's reference")
    poster.add_argument("--activity", type=int, metavar="ID", help="one activity's poster")
    poster.add_argument("--lang", default="en", help="languages, e.g. en,ar,ti (one to three)")
    poster.add_argument("-o", "--output", type=Path, required=True, metavar="FILE")
    return parser


def _poster_command(config: Config, args: argparse.Namespace) -> int:
    """poster: the PDF from bot.views.poster; bad input is one line and exit code 2."""
    from bot.views.poster import PosterError, make, parse_languages
    from storage.db import utcnow

    try:
        if args.group is None and args.activity is None:
            raise PosterError("name a GROUP or an --activity ID")
        languages = parse_languages(args.lang)
        load_catalogs()
        pdf = asyncio.run(make(config, args.group, args.activity, languages, utcnow()))
    except (PosterError, CatalogsNotCompiled) as exc:
        print(f"sanctuary-bot: error: {exc}", file=sys.stderr)
        return 2
    args.output.write_bytes(pdf)
    print(f"wrote {args.output} ({len(pdf)} bytes)")
    return 0


async def _copy_db(source: str, target: str) -> int:
    """copy-db: both sides' row counts; exit code 1 when the copy cannot be made or differs."""
    from storage.copy import CopyError, copy_database
    from storage.db import Database

    async with contextlib.AsyncExitStack() as stack:
        try:
            source_db = await Database.open(source)
            stack.push_async_callback(source_db.close)
            target_db = await Database.open(target)
            stack.push_async_callback(target_db.close)
            counts = await copy_database(source_db, target_db)
        except (CopyError, OSError, RuntimeError) as exc:
            print(f"sanctuary-bot: error: {exc}", file=sys.stderr)
            return 1
    width = max(len(c.table) for c in counts)
    print(f"{'table':<{width}} {'FROM':>10} {'TO':>10}")
    for c in counts:
        print(f"{c.table:<{width}} {c.source:>10} {c.target:>10}")
    differ = [c.table for c in counts if c.source != c.target]
    total = sum(c.target for c in counts)
    if differ:
        print(f"sanctuary-bot: error: row counts differ in {', '.join(differ)}", file=sys.stderr)
        return 1
    print(f"copied {total} rows in {len(counts)} tables")
    return 0


def _backup_command(config: Config, args: argparse.Namespace) -> int:
    """backup and restore: copies through SQLite's backup API (storage.backup)."""
    from storage.backup import BackupError, backup, restore

    if config.db_url is not None:
        print(
            f"sanctuary-bot: error: {args.command} copies a SQLite file; SANCTUARY_DB is "
            "PostgreSQL: use pg_dump and pg_restore (or copy-db to a SQLite file)",
            file=sys.stderr,
        )
        return 2
    try:
        if args.command == "backup":
            done, verb, source = backup(config.db_path, args.file), "backed up", config.db_path
        else:
            done, verb, source = restore(args.file, config.db_path), "restored", args.file
    except BackupError as exc:
        print(f"sanctuary-bot: error: {exc}", file=sys.stderr)
        return 1
    print(f"{verb} {source} to {done.path} (schema version {done.version}, {done.size} bytes)")
    return 0


async def _stats(config: Config, as_csv: bool) -> str:
    """The figures as aligned text or CSV (figure,key,month,count)."""
    import csv
    import io

    from storage.db import Database, utcnow
    from storage.stats import StatsRepository

    db = await Database.open(config.database)
    try:
        figures = await StatsRepository(db).figures(utcnow())
    finally:
        await db.close()
    if as_csv:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["figure", "key", "month", "count"])
        writer.writerows([f.figure, f.key, f.month, f.count] for f in figures)
        return out.getvalue()
    lines: list[str] = []
    for f in figures:
        label = " ".join(part for part in (f.key, f.month) if part) or "total"
        lines.append(f"{f.figure:<22} {label:<24} {f.count:>8}")
    return "\n".join(lines) + "\n"


async def _roles_command(config: Config, args: argparse.Namespace) -> tuple[int, str]:
    """grant, revoke and audit: (exit code, what to print)."""
    from storage.db import Database, utcnow
    from storage.groups import GroupRepository
    from storage.roles import NETWORK, RoleRepository

    db = await Database.open(config.database)
    try:
        roles = RoleRepository(db)
        if args.command == "audit":
            lines = [
                f"{e.at.isoformat()} {e.action} actor={e.actor if e.actor is not None else '-'} "
                f"target={e.target if e.target is not None else '-'} "
                f"group={e.group_id if e.group_id is not None else '-'} {e.detail}".rstrip()
                for e in await roles.audit(args.limit)
            ]
            return 0, "\n".join(lines) + ("\n" if lines else "")
        if args.telegram_id <= 0:
            return 2, "a Telegram user id is a positive number"
        group_id = NETWORK
        if args.role == "admin":
            if not args.group:
                return 2, "admin needs --group REF"
            refs = await GroupRepository(db).refs()
            if args.group not in refs:
                return 2, f"no group with reference {args.group!r}"
            group_id = refs[args.group]
        elif args.group:
            return 2, "a coordinator acts for the whole network: no --group"
        change = roles.grant if args.command == "grant" else roles.revoke
        done = await change(args.telegram_id, args.role, group_id, None, utcnow())
        where = f" of {args.group}" if args.group else ""
        verb = "granted" if args.command == "grant" else "revoked"
        if not done:
            return 0, (
                f"nothing to do: {args.telegram_id} {'already has' if args.command == 'grant' else 'does not have'} that role\n"
            )
        note = await _chat_commands(config, db, args.telegram_id)
        return 0, f"{verb}: {args.role}{where} for {args.telegram_id}\n{note}"
    finally:
        await db.close()


async def _chat_commands(config: Config, db: Database, user_id: int) -> str:
    """After a role change: the person's command menu in their chat, in their language, with
    their roles' commands (when a bot token is configured); a line saying what happened."""
    from telegram import Bot, BotCommand, BotCommandScopeChat, MenuButtonDefault
    from telegram.error import TelegramError

    from bot.i18n import resolve_locale, use_locale
    from bot.views import menus as mv
    from bot.views.desk import menu_button
    from storage.roles import RoleRepository
    from storage.users import UserRepository

    if not config.token:
        return ""
    try:
        load_catalogs()
    except CatalogsNotCompiled:
        return "their command menu is unchanged: the translations are not compiled\n"
    user = await UserRepository(db).get(user_id)
    roles = frozenset(r.role for r in await RoleRepository(db).roles_of(user_id))
    with use_locale(resolve_locale(user.locale if user else None, None)):
        commands = [BotCommand(name, text) for name, text in mv.commands(roles)]
        desk = menu_button(config.public_url, roles)
    try:
        async with Bot(config.token, base_url=config.api_url) as bot:
            await bot.set_my_commands(commands, scope=BotCommandScopeChat(user_id))
            if config.public_url is not None:  # the desk's menu button, or Telegram's own
                await bot.set_chat_menu_button(user_id, desk or MenuButtonDefault())
    except TelegramError as exc:  # e.g. they never wrote to the bot: nothing to update
        return f"their command menu is unchanged: {exc.message}\n"
    if desk is not None:
        return "their command menu now shows their roles' commands, and its button the desk\n"
    return "their command menu now shows their roles' commands\n"


async def _with_db(config: Config, command: str, kind: str, text: str) -> str:
    """Run a database command; returns what to print or write."""
    from bot.cli.demo import seed_demo
    from bot.domain import importer
    from storage.db import Database

    db = await Database.open(config.database)
    try:
        if command == "seed-demo":
            groups, activities = await seed_demo(db)
            return (
                f"seeded {groups} groups and {activities} activities into {config.database_name}\n"
            )
        if command == "import":
            if kind == "groups":
                count = await importer.import_groups(db, text)
            else:
                count = await importer.import_activities(db, text)
            return f"imported {count} {kind}\n"
        if kind == "groups":
            return await importer.export_groups(db)
        return await importer.export_activities(db)
    finally:
        await db.close()


def _data_command(config: Config, args: argparse.Namespace) -> int:
    """seed-demo, import and export: file I/O here, database work in _with_db."""
    from bot.domain.importer import ImportFailed, decode

    command, kind, text = args.command, getattr(args, "kind", ""), ""
    try:
        if command == "import":
            path: Path = args.file
            if not path.is_file():
                print(f"sanctuary-bot: error: no such file: {path}", file=sys.stderr)
                return 2
            text = decode(path.read_bytes())
        output = asyncio.run(_with_db(config, command, kind, text))
    except ImportFailed as failed:
        for error in failed.errors:
            print(f"{args.file}: {error}", file=sys.stderr)
        print(f"{args.file}: {len(failed.errors)} error(s); nothing imported", file=sys.stderr)
        return 1
    if command == "export" and args.file != "-":
        Path(args.file).write_text(output, "utf-8")
        print(f"exported {kind} to {args.file}")
    else:
        sys.stdout.write(output)
    return 0


async def _deliver(config: Config) -> int:
    """Drain the outbox once: what `deliver` does. Says what really happened to the rows
    (sent, failed, blocked) and exits 1 when any failed."""
    from telegram import Bot

    from bot.delivery.budget import budget_for, sender_limits
    from bot.delivery.outbox import Sender
    from bot.delivery.renderers import build_renderers
    from bot.delivery.transport import AiohttpRequest
    from bot.leases import LEASE, RENEW_S, SENDER
    from bot.search.directory import Directory
    from storage.activities import ActivityRepository
    from storage.campaigns import CampaignRepository
    from storage.db import Database, utcnow
    from storage.groups import GroupRepository
    from storage.leases import LeaseRepository
    from storage.outbox import OutboxRepository
    from storage.translations import TranslationRepository
    from storage.users import UserRepository

    db = await Database.open(config.database)
    try:
        # One sender for the bot, as Telegram counts its limits: not while an instance sends.
        leases = LeaseRepository(db)
        holder = f"{config.instance} (deliver)"
        now = utcnow()
        if not await leases.take(SENDER, holder, now, now + LEASE):
            held = await leases.holder(SENDER)
            print(
                f"the bot instance {held[0] if held else '?'} sends the outbox now: "
                "nothing sent here (it sends what is due)",
                file=sys.stderr,
            )
            return 0
        directory = Directory(ActivityRepository(db), GroupRepository(db))
        await directory.refresh(force=True)
        outbox = OutboxRepository(db)
        before = await outbox.counts()
        request = AiohttpRequest()  # several messages in flight, as the application sends
        async with Bot(config.token or "", base_url=config.api_url, request=request) as bot:
            # replies of running instances share the limits (on PostgreSQL)
            limiter, shared = sender_limits(budget_for(db, config.send_rate))
            users = UserRepository(db)
            renderers = build_renderers(
                directory, utcnow, users, config, CampaignRepository(db), TranslationRepository(db)
            )
            sender = Sender(bot, outbox, users, renderers, limiter, budget=shared)
            await sender.start()
            renewed = time.monotonic()
            while await sender.run_once():
                if time.monotonic() - renewed >= RENEW_S:
                    now = utcnow()
                    if not await leases.take(SENDER, holder, now, now + LEASE):
                        break  # it ran out: an instance sends now
                    renewed = time.monotonic()
            await sender.drain()
        await leases.release(SENDER, holder)
        after = await outbox.counts()
    finally:
        await db.close()
    done = {state: after.get(state, 0) - before.get(state, 0) for state in DELIVERY_STATES}
    print(
        ", ".join(f"{state} {count}" for state, count in done.items())
        + f"; still pending {after.get('pending', 0)}; outbox now: {after}"
    )
    return 1 if done["failed"] else 0


DELIVERY_STATES = ("sent", "failed", "blocked")  # what a delivery run can do to a row


def _run_service(config: Config) -> int:
    from bot.service import run

    try:
        return asyncio.run(run(config))
    except ConfigError as exc:
        print(f"sanctuary-bot: error: {exc}", file=sys.stderr)
        return 2


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    args = _parser().parse_args(argv)
    command = args.command or "run"
    if command == "copy-db":  # FROM and TO, not SANCTUARY_DB
        from storage.db import is_postgresql

        if not is_postgresql(args.source) and not Path(args.source).is_file():
            print(f"sanctuary-bot: error: FROM: no such file: {args.source}", file=sys.stderr)
            return 2
        if args.source == args.target:
            print("sanctuary-bot: error: FROM and TO are the same database", file=sys.stderr)
            return 2
        return asyncio.run(_copy_db(args.source, args.target))
    try:
        config = Config.from_env()
        configure_logging(config.log_format)
        if command in ("run", "console"):
            load_catalogs()
    except (ConfigError, CatalogsNotCompiled) as exc:
        print(f"sanctuary-bot: error: {exc}", file=sys.stderr)
        return 2
    if command == "run" and config.token:
        return _run_service(config)
    if command == "deliver":
        if not config.token:
            print("sanctuary-bot: error: deliver needs TELEGRAM_BOT_TOKEN", file=sys.stderr)
            return 2
        load_catalogs()
        return asyncio.run(_deliver(config))
    if command in ("grant", "revoke", "audit"):
        code, output = asyncio.run(_roles_command(config, args))
        if code:
            print(f"sanctuary-bot: error: {output}", file=sys.stderr)
        else:
            sys.stdout.write(output)
        return code
    if command in ("backup", "restore"):
        return _backup_command(config, args)
    if command == "poster":
        return _poster_command(config, args)
    if command == "stats":
        sys.stdout.write(asyncio.run(_stats(config, args.csv)))
        return 0
    if command in ("run", "console"):
        from bot.cli.console import run_console

        # The terminal is the chat: keep the log to warnings so it does not interleave.
        logging.getLogger().setLevel(logging.WARNING)

        try:
            return asyncio.run(run_console(config))
        except KeyboardInterrupt:  # Ctrl-C: the demo has already closed everything it opened
            print("\nbye")
            return 130
    return _data_command(config, args)


if __name__ == "__main__":
    raise SystemExit(main())
