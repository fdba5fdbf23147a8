"""Faults the fake Bot API injects: error answers (429, 403, 400, 5xx, a group moved to a
supergroup), time-outs, calls held until a test releases them, and chats that blocked the bot.

:class:`Faults` is a part of :class:`tests.fakeapi.FakeBotAPI` (its base class): a test calls
``server.fail_next(...)``, ``server.hold(...)``, ``server.block(...)``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from tests.fakeapi.rules import ApiError, bad, words

FAULT_KINDS = frozenset({"429", "403", "400", "500", "502", "timeout", "migrate"})
# Methods a fault with ``method=None`` never hits: polling, start-up and configuration calls.
INFRASTRUCTURE_METHODS = words(
    "getupdates getme deletewebhook setwebhook getwebhookinfo close logout setmycommands "
    "getmycommands deletemycommands setchatmenubutton getchatmenubutton setmydescription "
    "setmyshortdescription setmyname getfile"
)


@dataclass(slots=True)
class Gate:
    """See :meth:`Faults.hold`: ``arrived`` is set when the held call comes; the call is
    answered once ``release`` is set."""

    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass(slots=True)
class Fault:
    """One :meth:`Faults.fail_next`, with how many calls it still fails."""

    method: str | None
    kind: str
    remaining: int
    retry_after: int
    chat_id: int | None
    migrate_to_chat_id: int | None

    def matches(self, key: str, chat_id: int | None) -> bool:
        if self.method is None:
            if key in INFRASTRUCTURE_METHODS:
                return False
        elif self.method != key:
            return False
        return self.chat_id is None or self.chat_id == chat_id

    def error(self, chat_id: int | None) -> ApiError:
        if self.kind == "429":
            return ApiError(
                429,
                f"Too Many Requests: retry after {self.retry_after}",
                {"retry_after": self.retry_after},
            )
        if self.kind == "403":
            return ApiError(403, "Forbidden: bot was blocked by the user")
        if self.kind == "500":
            return ApiError(500, "Internal Server Error")
        if self.kind == "502":
            return ApiError(502, "Bad Gateway")
        if self.kind == "migrate":
            target = self.migrate_to_chat_id
            if target is None:
                target = (chat_id or 0) - 1_000_000_000_000
            return ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": target},
            )
        return bad("injected failure")


class Faults:
    """The faults waiting to fire, the held calls and the blocked chats (``blocked``)."""

    def __init__(self) -> None:
        self.blocked: set[int] = set()
        self._faults: list[Fault] = []
        self._gates: dict[str, Gate] = {}

    def fail_next(
        self,
        method: str | None = None,
        *,
        kind: str,
        count: int = 1,
        retry_after: int = 1,
        chat_id: int | None = None,
        migrate_to_chat_id: int | None = None,
    ) -> None:
        """Make the next ``count`` matching calls fail with ``kind`` (see FAULT_KINDS).

        ``method=None`` matches any method except INFRASTRUCTURE_METHODS.
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; use one of {sorted(FAULT_KINDS)}")
        if count < 1:
            raise ValueError("count must be at least 1")
        self._faults.append(
            Fault(
                method.lower() if method else None,
                kind,
                count,
                retry_after,
                chat_id,
                migrate_to_chat_id,
            )
        )

    def hold(self, method: str) -> Gate:
        """Hold the next call of ``method`` unanswered until the gate is released: a handler
        that is still running, for as long as a test needs."""
        gate = Gate()
        self._gates[method.lower()] = gate
        return gate

    def clear_faults(self) -> None:
        """Forget faults that have not fired yet."""
        self._faults.clear()

    def block(self, chat_id: int) -> None:
        """Every send to ``chat_id`` answers 403 until :meth:`unblock`."""
        self.blocked.add(chat_id)

    def unblock(self, chat_id: int) -> None:
        """Undo :meth:`block`."""
        self.blocked.discard(chat_id)

    def _take_gate(self, key: str) -> Gate | None:
        """The gate holding this call of method ``key`` (lower case), if one does."""
        return self._gates.pop(key, None)

    def _take_fault(self, key: str, chat_id: int | None) -> Fault | None:
        """The fault this call of method ``key`` (lower case) meets, if any (counted)."""
        for fault in self._faults:
            if fault.matches(key, chat_id):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    def _check_blocked(self, key: str, chat_id: int | None) -> None:
        """403 for a send or an edit to a chat that blocked the bot."""
        if chat_id is None or chat_id not in self.blocked:
            return
        if key.startswith(("send", "edit", "copy", "forward")):
            if chat_id > 0:
                raise ApiError(403, "Forbidden: bot was blocked by the user")
            raise ApiError(403, "Forbidden: bot was kicked from the group chat")
