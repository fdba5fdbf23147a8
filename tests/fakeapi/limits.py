"""Telegram's flood limits, counted: sends a second in all, a second to one person, a minute
to one group (sendChatAction is not counted).

:class:`FloodLimits` is a part of :class:`tests.fakeapi.FakeBotAPI` (its base class): a test
calls ``server.enforce_limits()`` and reads ``server.violations`` and ``server.violation_log``.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field

from tests.fakeapi.rules import CANONICAL, ApiError


@dataclass(slots=True)
class _Limits:
    per_second_total: float
    per_chat_per_second: float
    per_group_per_minute: int
    answer_429: bool
    total: deque[float] = field(default_factory=deque)
    last_private: dict[int, float] = field(default_factory=dict)
    groups: dict[int, deque[float]] = field(default_factory=dict)


class FloodLimits:
    """The limits counted (none until :meth:`enforce_limits`) and what broke them."""

    def __init__(self) -> None:
        self.violations = 0
        self.violation_log: list[str] = []
        self._limits: _Limits | None = None

    def enforce_limits(
        self,
        per_second_total: float = 30,
        per_chat_per_second: float = 1,
        per_group_per_minute: int = 20,
        answer_429: bool = False,
    ) -> None:
        """Count flood-limit violations of send* calls (sendChatAction excluded) in violations."""
        self._limits = _Limits(
            per_second_total, per_chat_per_second, per_group_per_minute, answer_429
        )

    def disable_limits(self) -> None:
        """Stop counting rate-limit violations."""
        self._limits = None

    def _check_limits(self, key: str, chat_id: int | None, now: float | None = None) -> None:
        """Count this call of method ``key`` (lower case), made at ``now`` (time.monotonic(),
        by default the moment of this check); a violation is logged, and answered 429 when the
        limits say so."""
        limits = self._limits
        if limits is None or not key.startswith("send") or key == "sendchataction":
            return
        now = time.monotonic() if now is None else now
        problems: list[str] = []
        while limits.total and limits.total[0] <= now - 1.0:
            limits.total.popleft()
        if len(limits.total) >= limits.per_second_total:
            problems.append(f"more than {limits.per_second_total:g} sends in 1 s")
        group: deque[float] | None = None
        if chat_id is not None and chat_id > 0:
            last = limits.last_private.get(chat_id)
            gap = 1.0 / limits.per_chat_per_second if limits.per_chat_per_second > 0 else 0.0
            if last is not None and now - last < gap:
                problems.append(f"chat {chat_id}: {now - last:.3f} s since previous send")
        elif chat_id is not None:
            group = limits.groups.setdefault(chat_id, deque())
            while group and group[0] <= now - 60.0:
                group.popleft()
            if len(group) >= limits.per_group_per_minute:
                problems.append(f"group {chat_id}: more than {limits.per_group_per_minute}/min")
        if problems:
            self.violations += 1
            self.violation_log.append(f"{CANONICAL.get(key, key)}: " + "; ".join(problems))
            if limits.answer_429:
                raise ApiError(429, "Too Many Requests: retry after 1", {"retry_after": 1})
        limits.total.append(now)
        if chat_id is not None and chat_id > 0:
            limits.last_private[chat_id] = now
        elif group is not None:
            group.append(now)
