"""The process's heap (``dashboard.heap``): freed large temporaries go back to the system, and both server
commands ask for that before anything else."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from dashboard import cli
from dashboard.heap import _libc, give_back_freed_memory, return_large_blocks

pytestmark = pytest.mark.skipif(_libc() is None, reason="glibc's malloc only")

#: A fresh interpreter frees one 16 MiB block (glibc then raises its mmap threshold to 16 MiB), then makes and
#: frees 40 MiB of 1 MiB temporaries, and prints how much more resident memory it holds after (MB).
PROBE = textwrap.dedent("""
    import sys
    from dashboard.heap import return_large_blocks

    def rss():
        for line in open("/proc/self/status"):
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024

    if sys.argv[1] == "fixed":
        assert return_large_blocks()
    big = bytearray(16 << 20)
    del big
    before = rss()
    blocks = [bytearray(1 << 20) for _ in range(40)]
    del blocks
    print(rss() - before)
""")


def _kept_after_temporaries(mode: str) -> float:
    answer = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, timeout=60,
                            check=True)
    return float(answer.stdout)


def test_hep001_freed_large_temporaries_go_back_to_the_system_once_the_threshold_is_fixed():
    # control: with glibc's dynamic threshold the temporaries come from the heap and part of them stays
    assert _kept_after_temporaries("default") >= 4
    assert _kept_after_temporaries("fixed") < 1


def test_hep002_serve_and_ingest_fix_the_threshold_before_anything_else(monkeypatch):
    class Called(Exception):
        """Raised by the patched ``return_large_blocks``: the command asked for it."""

    def called(*_args, **_kwargs):
        raise Called

    monkeypatch.setattr(cli, "return_large_blocks", called)
    monkeypatch.setattr(cli, "_settings", lambda *_a, **_k: pytest.fail("start-up ran before the heap was set"))
    for command in ("serve", "ingest"):
        with pytest.raises(Called):
            cli.main([command])


def test_hep003_a_threshold_below_one_byte_is_refused_and_a_trim_is_taken():
    with pytest.raises(ValueError, match="at least 1 byte"):
        return_large_blocks(0)
    assert give_back_freed_memory() is True
