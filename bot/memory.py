"""How the process takes memory from the C allocator (glibc's malloc, on Linux).

glibc gives a block of at least its mmap threshold a mapping of its own, returned to the
system when freed; smaller blocks are cut from the heap. By default the threshold rises to
the size of the largest such block freed: at start a dictionary's table outgrown during the
directory's load (megabytes) lifts it, and from then on the packing's temporary lists (tens
to hundreds of kilobytes) are cut from the heap among long-lived arrays, leaving holes that
are never given back: 8 MB at national scale, after start and again after a day of changes
(``make bench-scale``). A fixed threshold keeps them apart. This is glibc's own setting
(``mallopt``, as ``MALLOC_MMAP_THRESHOLD_`` sets it from the environment), not a trim.
"""

from __future__ import annotations

import ctypes
import sys

M_MMAP_THRESHOLD = -3  # glibc's <malloc.h>
BIG_BLOCK = 256 * 1024  # 128 KB to 512 KB measured alike; page faults grow below


def keep_big_blocks_apart() -> bool:
    """Fix glibc's mmap threshold at ``BIG_BLOCK``; False where there is no glibc malloc
    (the setting is then left as it is). Called once, before the directory loads."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, BIG_BLOCK))
