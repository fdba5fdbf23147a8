"""The process's allocator setting (bot/memory.py)."""

from __future__ import annotations

import ctypes
import platform
import sys

import pytest

from bot.memory import keep_big_blocks_apart


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
    reason="glibc's malloc only",
)
def test_big_blocks_are_kept_apart_on_glibc() -> None:
    """glibc takes the fixed mmap threshold (asked again, it is the same setting)."""
    assert keep_big_blocks_apart()
    assert keep_big_blocks_apart()
    assert hasattr(ctypes.CDLL(None), "mallopt")
