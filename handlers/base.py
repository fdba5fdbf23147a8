"""What every journey shares: the per-update locale, sending views, expired menus, errors."""

from __future__ import annotations

import contextlib
import logging
from datetime import datetime, timedelta

from telegram import (
    Bot,
    CallbackQuery,
    InlineKeyboardMarkup,
    MaybeInaccessibleMessage,
    Message,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.error import BadRequest, Forbidden, RetryAfter
from telegram.ext import (
    CallbackQueryHandler,
    ChatMemberHandler,
    TypeHandler,
)

from bot.context import App, AppContext
from bot.delivery.outbox import retry_seconds
from bot.delivery.transport import DEFAULTS, call
from bot.i18n import resolve_locale, set_locale
from bot.logs import set_update_kind
from bot.views import admin as av
from bot.views import common
from bot.views.common import Markup, View, something_went_wrong
from bot.views.keyboard import Key, Keyboard
from storage.models import User

log = logging.getLogger(__name__)
SEEN_EVERY = timedelta(days=1)  # how precisely "the day you last wrote" is kept


async def locale_middleware(update: Update, context: AppContext) -> None:
    """Set the locale for this update: stored choice, Telegram language, English.

    A person who writes to the bot can be sent to again, if they had blocked it before (not
    one who only used inline mode: that is typed in another chat, blocked or not).
    What is logged while the update is handled names its kind (bot.logs).
    """
    set_update_kind(update)
    user = update.effective_user
    stored = None
    if user is not None:
        services = context.services
        row = await services.users.get(user.id)
        now = services.now()
        if row is not None and _stale(row, now):
            row = await services.users.touch(user.id, now)
        stored = row.locale if row else None
        sender = context.services.sender
        wrote = update.my_chat_member is None and update.inline_query is None
        if sender is not None and wrote and user.id in sender.unreachable:
            await sender.chat_reachable(user.id)
    set_locale(resolve_locale(stored, user.language_code if user else None))


def _stale(row: User, now: datetime) -> bool:
    """Whether the person's "last wrote" day needs writing (at most once a day)."""
    return (
        row.retention_asked_at is not None
        or row.last_seen_at is None
        or now - row.last_seen_at >= SEEN_EVERY
    )


async def my_chat_member(update: Update, context: AppContext) -> None:
    """The bot was blocked or unblocked in a private chat (or removed from or added to a group)."""
    change = update.my_chat_member
    sender = context.services.sender
    if change is None or sender is None:
        return
    chat_id = change.chat.id
    if change.new_chat_member.status in ("kicked", "left"):
        sender.unreachable.add(chat_id)
        await context.services.outbox.set_unreachable(chat_id, "blocked", context.services.now())
        return
    await sender.chat_reachable(chat_id)
    if change.chat.type in ("group", "supergroup") and change.old_chat_member.status in (
        "left",
        "kicked",
    ):
        # Added to a group chat. Plain text, as every message not built as a view.
        await context.bot.send_message(chat_id, av.hello_group(), parse_mode=None)


def _html(text: str, markup: Markup | None) -> dict[str, object]:
    """A message's text and buttons, with the bot's defaults (HTML, no link previews)."""
    return {
        "text": text,
        "parse_mode": DEFAULTS.parse_mode,
        "reply_markup": markup.to_dict() if isinstance(markup, Keyboard) else markup,
        "link_preview_options": DEFAULTS.link_preview_options,
    }


async def send(update: Update, view: View) -> None:
    """Send a view as a new message in the update's chat."""
    chat = update.effective_chat
    if chat is None:
        return
    await send_to(update.get_bot(), chat.id, view)


async def send_to(bot: Bot, chat_id: int, view: View) -> None:
    """Send a view as a new message to a chat (an answer that does not come with an update:
    a card asked for on the map)."""
    await call(bot, "sendMessage", chat_id=chat_id, **_html(view.text, view.markup))


async def show(update: Update, view: View) -> bool:
    """Edit the message a button belongs to into ``view``, or send it when that is impossible;
    False when the message already showed exactly that (Telegram's "not modified")."""
    query = update.callback_query
    message = query.message if query is not None else None
    if (
        isinstance(message, Message)
        and message.text is not None
        and not isinstance(view.markup, ReplyKeyboardMarkup)
    ):
        markup = view.markup if isinstance(view.markup, Keyboard) else None
        try:
            await call(
                update.get_bot(),
                "editMessageText",
                chat_id=message.chat_id,
                message_id=message.message_id,
                **_html(view.text, markup),
            )
            return True
        except BadRequest as exc:
            if "not modified" in exc.message.lower():
                return False
            log.info("could not edit, sending instead: %s", exc.message)
    await send(update, view)
    return True


async def swap_buttons(message: MaybeInaccessibleMessage | None, old: set[str], new: Key) -> None:
    """Put ``new`` in place of the buttons whose data is in ``old``, the rest kept as it was.

    Nothing is sent when the message has none of them (Telegram refuses an unchanged
    keyboard), nor when it can no longer be edited: the button's answer said it all.
    """
    if not isinstance(message, Message) or not isinstance(
        message.reply_markup, InlineKeyboardMarkup
    ):
        return
    keyboard = message.reply_markup.inline_keyboard
    if not any(b.callback_data in old for r in keyboard for b in r):
        return
    rows = [[new if b.callback_data in old else Key.of(b) for b in r] for r in keyboard]
    with contextlib.suppress(BadRequest):
        await message.edit_reply_markup(Keyboard(rows).markup())


async def answer(query: CallbackQuery, text: str | None = None) -> None:
    """Answer a button press (stops the spinner); ignore a query too old to answer."""
    with contextlib.suppress(BadRequest):
        await query.answer(text)


async def expired(update: Update, context: AppContext) -> None:
    """A button we cannot trust or no longer understand."""
    query = update.callback_query
    if query is not None:
        await answer(query, common.expired())


async def on_error(update: object, context: AppContext) -> None:
    """Log the error (never message text) and tell the person something went wrong."""
    error = context.error
    if isinstance(error, Forbidden):
        log.info("blocked by a user: %s", error.message)
        return
    if isinstance(error, RetryAfter):  # longer than a reply waits: this chat may not receive now
        log.warning(
            "429 from Telegram: a reply was dropped (retry after %.0f s)", retry_seconds(error)
        )
        return
    update_id = update.update_id if isinstance(update, Update) else None
    log.error("error handling update %s", update_id, exc_info=error)
    if context.bot_data.services is not None:
        context.bot_data.services.metrics.handler_errors.inc()
    if isinstance(update, Update) and update.effective_chat is not None:
        try:
            if update.callback_query is not None:
                await answer(update.callback_query)
            await update.effective_chat.send_message(something_went_wrong(), parse_mode=None)
        except Exception:
            log.warning("could not tell the user about the error")


def register(app: App) -> None:
    """The locale middleware runs first (group -1) for every update."""
    app.add_handler(TypeHandler(Update, locale_middleware), group=-1)
    app.add_handler(ChatMemberHandler(my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER))
    app.add_error_handler(on_error)


async def not_understood(update: Update, context: AppContext) -> None:
    """Anything else in a private chat (stickers, photos, unknown commands): point to /help."""
    await send(update, View(common.not_understood()))


def expired_callback_handler() -> CallbackQueryHandler[AppContext, None]:
    """Any button no journey claimed: an expired menu."""
    return CallbackQueryHandler(expired)
