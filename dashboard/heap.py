"""The process's heap (glibc's malloc): what a server process hands back to the system, and when.

A server process holds its read model for good and makes large temporaries on each request (a list or a
summary over 100,000 alerts: NumPy and pandas arrays of a few hundred KB to some MB each). With glibc's
defaults those temporaries stay in the process after they are freed:

- a block of at least ``M_MMAP_THRESHOLD`` bytes (128 KiB at start) is mapped on its own and unmapped when
  freed; but each such free *raises* the threshold to the freed block's size (glibc's dynamic threshold, up to
  32 MiB on 64-bit), so the next temporaries of that size come from the heap, and a freed heap block is kept
  for reuse. Measured with 100,000 alerts, a list of 200 and a summary (bench/README.md section 10): a
  ``serve`` that had just loaded them held 292 MB, and 311-313 MB after those reads; with the threshold fixed
  at 128 KiB from the start of the command, 279-305 MB and 283-291 MB. (Started again on the same alerts:
  265 → 284-286 MB, fixed 260 → 265 MB.) Each such read is about 50 ms slower: its large arrays are mapped
  afresh;
- freed small blocks stay in the heap until ``malloc_trim``.

``return_large_blocks`` fixes the threshold (``mallopt(M_MMAP_THRESHOLD, …)``, which also stops the dynamic
raise: mallopt(3)) and the heap top's trim threshold (``M_TRIM_THRESHOLD``, which each raise had set to twice
the mmap threshold); ``give_back_freed_memory`` trims. Both do nothing, and say so, where there is no glibc.
Sources: mallopt(3), malloc_trim(3) of the Linux man-pages; glibc's malloc/malloc.c (``mp_.no_dyn_threshold``).
"""
from __future__ import annotations

import ctypes
import functools

#: ``mallopt`` parameter numbers of ``M_TRIM_THRESHOLD`` and ``M_MMAP_THRESHOLD`` (glibc's malloc.h).
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
#: Blocks of at least this many bytes are mapped on their own, and returned when freed (glibc's own start
#: value, kept fixed).
LARGE_BLOCK = 128 * 1024


@functools.cache
def _libc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt, libc.malloc_trim  # noqa: B018  (both must be there: glibc)
    except (OSError, AttributeError):
        return None
    return libc


def return_large_blocks(threshold: int = LARGE_BLOCK) -> bool:
    """Map every block of at least ``threshold`` bytes (> 0) on its own and unmap it when freed, for the rest of
    the process (call it once, at start-up, before the read model is loaded). True when glibc took it; False
    where there is no glibc or it refused the value.
    ``ValueError`` for a ``threshold`` below 1."""
    if threshold < 1:
        raise ValueError(f"threshold must be at least 1 byte, not {threshold}")
    libc = _libc()
    return libc is not None and libc.mallopt(M_MMAP_THRESHOLD, threshold) == 1 and libc.mallopt(
        M_TRIM_THRESHOLD, threshold) == 1  # a raise before this call also raised the trim threshold: undo it


def give_back_freed_memory() -> bool:
    """Hand the heap's free pages back to the system (glibc's ``malloc_trim(0)``): a start-up load parses every
    stored record and frees it again, and what it freed stays in the process otherwise (about 25 MB at 100,000
    alerts: bench/README.md section 10). False where there is no glibc."""
    libc = _libc()
    if libc is None:
        return False
    libc.malloc_trim(0)
    return True
