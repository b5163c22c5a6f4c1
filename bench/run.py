"""Performance benchmarks: ingest throughput, publish-to-screen latency, map page build, response assets,
acknowledgment latency, MSEL load, the CoT listener.

    python -m bench.run [--quick] [--redis-url URL] [--only ingest,latency,map,assets,ack,msel,tak] [--profile]

Every figure is printed next to a baseline measured in the same run (a raw
Redis or plain-Python version of the same work), so a slow machine shows up
in both columns and the ratio still means something. Results are also written
to ``bench/results/latest.json``. See ``bench/README.md`` for what each
figure means; each section is its own module (``bench.ingest``,
``bench.latency``, ``bench.map``, ``bench.assets``, ``bench.ack``, ``bench.msel``, ``bench.tak``,
``bench.replay``).

All Redis keys live under one fresh prefix (``bench-<uuid>:...``) and are
deleted at the end, whatever happens.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
import traceback
import uuid
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import redis

if __package__ in (None, ""):  # run as a script (``python bench/run.py``): make ``bench`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    RESULTS_DIR,
    client_for,
    delete_prefix,
    load_places,
    loadavg,
    meta,
    write_results,
)

FULL = {"ingest_n": 50_000, "latency_m": 200, "map_sizes": [1_000, 10_000, 100_000]}
QUICK = {"ingest_n": 5_000, "latency_m": 30, "map_sizes": [1_000, 10_000]}
SECTIONS = ("ingest", "latency", "map", "assets", "ack", "msel", "tak", "replay", "ha", "memory", "replay_page")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line (``python -m bench.run --help``)."""
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes for a smoke run (< 1 min)")
    parser.add_argument("--redis-url", default=os.environ.get("CRISIS_BENCH_REDIS_URL")
                        or os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0")
    parser.add_argument("--only", default=",".join(SECTIONS), help="comma list of: " + ", ".join(SECTIONS))
    parser.add_argument("--assets", type=int, default=5_000, help="assets: how many assets (default 5,000)")
    parser.add_argument("--n", type=int, help="ingest: alerts (default 50,000; quick 5,000)")
    parser.add_argument("--m", type=int, help="latency: alerts published (default 200; quick 30)")
    parser.add_argument("--spacing-ms", type=float, default=20.0, help="latency: gap between publishes")
    parser.add_argument("--gpu-process", action="store_true",
                        help="latency: Chromium draws WebGL in its GPU process (SwiftShader) instead of the tests' "
                             "--disable-gpu (see bench/README.md section 2)")
    parser.add_argument("--sizes", help="map: comma list of sizes (default 1000,10000,100000)")
    parser.add_argument("--repeats", type=int, help="map: timing repeats, median reported (default 3; 1 from 100,000 up)")
    parser.add_argument("--workers", type=int, default=2,
                        help="ingest: also drain with this many worker processes (default 2; 1 skips it)")
    parser.add_argument("--profile", action="store_true", help="ingest: always cProfile the drain")
    parser.add_argument("--no-profile", action="store_true", help="ingest: never profile, even below target")
    parser.add_argument("--json", type=Path, default=RESULTS_DIR / "latest.json", help="where to write results")
    return parser.parse_args(argv)


def plan(args: argparse.Namespace, prefix: str, places) -> list[tuple[str, Callable[[ModuleType], dict]]]:
    """The sections asked for, in order, as (name, call): ``call(module)`` runs the section's
    benchmark with the options of the command line."""
    preset = QUICK if args.quick else FULL
    n = args.n or preset["ingest_n"]
    m = args.m or preset["latency_m"]
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else preset["map_sizes"]
    repeats = args.repeats or 3
    url = args.redis_url
    calls: dict[str, Callable[[ModuleType], dict]] = {
        "ingest": lambda mod: mod.bench_ingest(url, prefix, n, places, args.profile, args.no_profile, args.workers),
        "latency": lambda mod: mod.bench_latency(url, prefix, m, args.spacing_ms, places, args.gpu_process),
        "map": lambda mod: mod.bench_map(sizes, places, repeats, args.repeats is not None),
        "assets": lambda mod: mod.bench_assets(args.assets, places),
        "ack": lambda mod: mod.bench_ack(url, prefix, 50, 3 if args.quick else 10),
        "msel": lambda mod: mod.bench_msel(url, prefix, 1 if args.quick else 3),
        "tak": lambda mod: mod.bench_tak(url, prefix, 5_000 if args.quick else 20_000, 1_000 if args.quick else 3_000),
        "replay": lambda mod: mod.bench_replay(url, prefix, 20 if args.quick else 50, 0.1 if args.quick else 1.0),
        "ha": lambda mod: mod.bench_ha(prefix, 5_000 if args.quick else 20_000, places),
        "memory": lambda mod: mod.bench_memory(url, prefix, max(sizes), places),
        "replay_page": lambda mod: mod.bench_replay_page(url, prefix, 300 if args.quick else 2_500,
                                                         3 if args.quick else 5, places),
    }
    wanted = {s.strip() for s in args.only.split(",") if s.strip()}
    return [(name, calls[name]) for name in SECTIONS if name in wanted]


def run_section(name: str, call: Callable[[ModuleType], dict]) -> dict:
    """Import ``bench.<name>``, run it and print its table (``report_<name>``) with how long it took and
    the 1-minute load average before and after. A failure, import included, is printed and returned as
    ``{"error", "traceback"}``, and the other sections go on."""
    t0 = time.perf_counter()
    load_before = loadavg()
    try:
        module = importlib.import_module(f"bench.{name}")
        result = call(module)
        result["section_seconds"] = time.perf_counter() - t0
        result["loadavg_1m"] = {"before": load_before, "after": loadavg()}
        getattr(module, f"report_{name}")(result)
        la = result["loadavg_1m"]
        print(f"   section took {result['section_seconds']:.1f} s; 1-min load average "
              f"{la['before']} -> {la['after']} on {os.cpu_count()} CPUs (other work on the machine skews figures)")
        return result
    except Exception as exc:  # noqa: BLE001  report and carry on with the other sections
        print(f"\n{name}: FAILED: {type(exc).__name__}: {exc}", file=sys.stderr)
        traceback.print_exc()
        return {"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}


def main(argv: list[str] | None = None) -> int:
    """Run the sections asked for; 0 if all passed, 1 if one failed, 2 if Redis cannot be reached."""
    args = parse_args(argv)
    try:
        client_for(args.redis_url, timeout=2).ping()
    except redis.RedisError as exc:
        print(f"cannot reach Redis at {args.redis_url}: {exc}", file=sys.stderr)
        return 2
    client = client_for(args.redis_url)
    prefix = f"bench-{uuid.uuid4().hex[:12]}"
    results: dict = {"meta": meta(args.redis_url, args.quick), "prefix": prefix}
    m_ = results["meta"]
    print(f"bench: {'quick' if args.quick else 'full'} run, Python {m_['python']}, {m_['cpus']} CPUs "
          f"(load average {m_['loadavg_1m_at_start']}), Redis {m_['redis_version']} at {args.redis_url}, key prefix {prefix}")
    places = load_places()
    failed = False
    started = time.perf_counter()
    try:
        for name, call in plan(args, prefix, places):
            results[name] = run_section(name, call)
            failed |= "error" in results[name]
    finally:
        removed = delete_prefix(client, prefix)
        results["cleanup_deleted_keys"] = removed
        results["total_seconds"] = time.perf_counter() - started
        write_results(args.json, results)
        print(f"\ntotal {results['total_seconds']:.1f} s; deleted {removed} leftover key(s) under {prefix}:*; "
              f"results in {os.path.relpath(args.json)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
