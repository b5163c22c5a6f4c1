"""cProfile helpers of the bench: a profile's top functions as rows, and printing them (section 1's drain)."""
from __future__ import annotations

import cProfile
import os
import pstats

from bench.common import ROOT


def short_path(filename: str) -> str:
    """A profiled function's file, relative to the checkout or to site-packages."""
    if filename.startswith(str(ROOT)):
        return os.path.relpath(filename, ROOT)
    marker = "site-packages" + os.sep
    if marker in filename:
        return filename.split(marker, 1)[1]
    if os.sep in filename:
        return os.path.basename(filename)
    return filename


def profile_rows(profile: cProfile.Profile, sort: str, limit: int, only_project: bool = False) -> list[dict]:
    """The top ``limit`` functions of a profile by ``tottime`` or ``cumtime`` (seconds), with call counts."""
    stats = pstats.Stats(profile)
    rows = []
    for (filename, line, func), (_cc, nc, tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        if only_project and not filename.startswith(str(ROOT)):
            continue
        rows.append({"function": f"{short_path(filename)}:{line}({func})", "calls": nc,
                     "tottime_s": round(tt, 4), "cumtime_s": round(ct, 4)})
    rows.sort(key=lambda r: r["tottime_s" if sort == "tottime" else "cumtime_s"], reverse=True)
    return rows[:limit]


def print_profile(p: dict) -> None:
    """Print a profile's ``top_tottime`` and ``project_cumtime`` rows (``profile_rows``), indented."""
    print("   top functions by own time:")
    for row in p["top_tottime"]:
        print(f"     {row['tottime_s']:8.3f} s own {row['cumtime_s']:8.3f} s cum {row['calls']:>8}x  {row['function']}")
    print("   project functions by cumulative time:")
    for row in p["project_cumtime"]:
        print(f"     {row['cumtime_s']:8.3f} s cum {row['tottime_s']:8.3f} s own {row['calls']:>8}x  {row['function']}")
