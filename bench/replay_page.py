"""11. The Replay page in the browser: how long a seek takes to show its alerts.

``n`` synthetic alerts (the map section's; a viewer of MK sees most of them) are recorded under a fresh
prefix; a real ``crisisdash serve --no-ingest`` runs on it, and headless Chromium (``conftest.BROWSER_ARGS``)
signs in as a duty officer and opens ``/replay``. Timed: from the page's load to its first picture (the count
``#replay-count`` written and ``#replay-alerts`` holding the items drawn), then ``seeks`` seeks (a moment typed
in, Enter) until the list is drawn again for the new moment. Baseline, same run: the same picture over HTTP
without a browser (``GET /api/v1/state?limit=`` as many as the page listed), the server's share.
"""
from __future__ import annotations

import os
import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx

from alerts.store.accounts import Accounts
from alerts.store.alerts import AlertStore
from alerts.store.keys import Keys
from bench.common import HEADERS, chunks, client_for, delete_prefix, fmt_ms, p50_p95_max, print_table

DRAWN_JS = """([moment, n]) => document.querySelector('#replay-time').innerText.includes(moment)
  && document.querySelectorAll('#replay-alerts li').length === n"""


def bench_replay_page(url: str, prefix: str, n: int, seeks: int, places) -> dict:
    """The section's figures (module docstring); skipped without Playwright or a Chromium."""
    from bench.common import browser_or_skip
    from bench.map import stored_alerts
    from tests.conftest import BROWSER_ARGS, start_server, stop_server

    found = browser_or_skip()
    if isinstance(found, dict):
        return found
    sync_playwright, chromium = found
    page_prefix, client = f"{prefix}:replay-page", client_for(url)
    keys = Keys(page_prefix)
    store = AlertStore(client, keys)
    for batch in chunks(stored_alerts(n, places), 1_000):
        store.record_many(batch)
    password = uuid.uuid4().hex
    accounts = Accounts(client, keys)
    accounts.add_user("bench-replay", "duty_officer", "MK", password)
    _, token = accounts.create_token("bench-replay")
    out: dict = {"n": n, "chromium": os.path.basename(chromium)}
    seconds, micros = client.time()  # the record's clock: every alert is recorded before it
    recorded = datetime.fromtimestamp(seconds + micros / 1e6, UTC)
    server = start_server(url, page_prefix, "--no-ingest", timeout=300)
    try:
        moments = [recorded + timedelta(milliseconds=100 * (i + 1)) for i in range(seeks)]  # past, when sought
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=list(BROWSER_ARGS))
            try:
                page = browser.new_page(viewport={"width": 1440, "height": 900})
                page.goto(server.url + "/login?next=/replay")
                page.fill("input[name=username]", "bench-replay")
                page.fill("input[name=password]", password)
                t0 = time.perf_counter()
                page.click("button[type=submit]")
                page.wait_for_function("() => document.querySelector('#replay-count')?.innerText", timeout=600_000)
                out["first_ms"] = (time.perf_counter() - t0) * 1000
                shown = out["shown"] = page.evaluate("document.querySelectorAll('#replay-alerts li').length")
                times = []
                for moment in moments:
                    typed = moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
                    t0 = time.perf_counter()
                    page.fill("#replay-at", typed)
                    page.press("#replay-at", "Enter")
                    page.wait_for_function(DRAWN_JS, arg=[typed[:23], shown], timeout=600_000)
                    times.append((time.perf_counter() - t0) * 1000)
                out["seek_ms"] = p50_p95_max(times)
            finally:
                browser.close()
        api = []
        for moment in moments:  # the same pictures without a browser
            t0 = time.perf_counter()
            httpx.get(f"{server.url}/api/v1/state", params={"at": moment.isoformat(), "limit": shown},
                      headers={"Authorization": f"Bearer {token}"}, timeout=120).raise_for_status()
            api.append((time.perf_counter() - t0) * 1000)
        out["api_ms"] = p50_p95_max(api)
    finally:
        stop_server(server)
        delete_prefix(client, page_prefix)
    return out


def report_replay_page(r: dict) -> None:
    """Print section 11."""
    if "skipped" in r:
        print(f"\n11. Replay page: skipped ({r['skipped']})")
        return
    seek, api = r["seek_ms"], r["api_ms"]
    rows = [
        ["sign-in -> first picture drawn", fmt_ms(r["first_ms"]), "-", "-", f"{r['shown']:,} alerts listed"],
        ["seek -> list drawn p50 / max", f"{fmt_ms(seek['p50'])} / {fmt_ms(seek['max'])}",
         "GET /api/v1/state (no browser) p50 / max", f"{fmt_ms(api['p50'])} / {fmt_ms(api['max'])}",
         f"{r['chromium']}"],
    ]
    print_table(f"11. Replay page ({r['n']:,} alerts recorded, the newest {r['shown']:,} shown)", HEADERS, rows)
