"""2. Publish-to-screen latency: from ``PUBLISH`` of an alert to its item in the map page's list.

``tests.conftest.start_server`` runs ``crisisdash serve`` (``dashboard.cli``,
with its ingest workers) on a free port; headless Chromium (Playwright) opens
``/``, signing in through the form if asked. The page receives SSE events
``alert`` / ``update`` (plain JSON, ``dashboard.live.payloads.alert_data``) on
``/live/alerts`` and ``assets/live.js`` renders the list items itself, each
carrying ``data-alert-id``. A ``MutationObserver`` stamps when each id first
appears in ``#alert-list``; an init script stamps when each ``alert`` event
reaches the page. M alerts are published with
``alerts.store.producer.send_to_channel``, every ``spacing_ms``. Times in ms,
all on one machine's clock. Baselines, same payloads, same run: a plain
redis-py subscriber, and a plain HTTP client reading ``/live/alerts``.
Target: p95 < 250 ms.
"""
from __future__ import annotations

import json
import os
import random
import secrets
import threading
import time
import uuid

from alerts.store.keys import Keys
from bench.common import (
    HEADERS,
    browser_or_skip,
    client_for,
    cpu_seconds,
    fmt_ms,
    fmt_p50_p95,
    make_alerts,
    p50_p95_max,
    pct,
    print_table,
    wait_for,
)

LATENCY_TARGET_P95_MS = 150.0  # the scale issue's, with the map on at 50 alerts/s (an earlier issue asked 250 ms)

#: Stamps the first time each alert id matching ``pattern`` is in ``#alert-list`` (its items' ``data-alert-id``).
OBSERVER_JS = """
(pattern) => {
  const re = new RegExp("^(?:" + pattern + ")$");
  const seen = {};
  window.__benchSeen = seen;
  const scan = () => {
    const now = performance.timeOrigin + performance.now();
    const list = document.getElementById("alert-list");
    if (!list) { return; }
    for (const item of list.querySelectorAll("[data-alert-id]")) {
      const id = item.getAttribute("data-alert-id");
      if (re.test(id) && !(id in seen)) { seen[id] = now; }
    }
  };
  window.__benchObserver = new MutationObserver(scan);
  window.__benchObserver.observe(document.body, {childList: true, subtree: true, characterData: true});
  scan();
  return true;
}
"""

#: Installed before any page script: stamps when each live ``alert`` event reaches the browser.
SSE_PROBE_JS = """
(() => {
  const Native = window.EventSource;
  if (!Native) { return; }
  const seen = {};
  window.__benchSse = seen;
  function Probed(url, options) {
    const source = new Native(url, options);
    source.addEventListener("alert", (event) => {
      const now = performance.timeOrigin + performance.now();
      try {
        const id = JSON.parse(event.data).id;
        if (!(id in seen)) { seen[id] = now; }
      } catch (err) { /* not ours */ }
    });
    return source;
  }
  Probed.prototype = Native.prototype;
  Probed.CONNECTING = 0; Probed.OPEN = 1; Probed.CLOSED = 2;
  window.EventSource = Probed;
  // Main-thread tasks over 50 ms (what delays event dispatch and rendering).
  window.__benchLongTasks = [];
  try {
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        window.__benchLongTasks.push([performance.timeOrigin + entry.startTime, entry.duration]);
      }
    }).observe({type: "longtask", buffered: true});
  } catch (err) { /* not supported */ }
})();
"""


class ChannelListener(threading.Thread):
    """Baseline: a plain redis-py pub/sub subscriber stamping each payload's arrival (ms since the epoch)."""

    def __init__(self, url: str, channel: str):
        super().__init__(name="bench-subscriber", daemon=True)
        self.client = client_for(url)
        self.pubsub = self.client.pubsub(ignore_subscribe_messages=True)
        self.pubsub.subscribe(channel)
        self.received: dict[str, float] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        """Stamp every message until ``close``."""
        while not self.stop.is_set():
            message = self.pubsub.get_message(timeout=0.1)
            if message is None:
                continue
            at = time.time() * 1000
            try:
                self.received.setdefault(json.loads(message["data"])["id"], at)
            except (ValueError, KeyError, TypeError):
                pass

    def close(self) -> None:
        """Stop, unsubscribe and close the client."""
        self.stop.set()
        self.join(timeout=2)
        self.pubsub.close()
        self.client.close()


class SseListener(threading.Thread):
    """Baseline: a plain HTTP client on the dashboard's own live stream (no browser), stamping each
    ``alert`` event's arrival (ms since the epoch)."""

    def __init__(self, url: str, cookies: dict[str, str]):
        import httpx

        super().__init__(name="bench-sse", daemon=True)
        self.url = url
        self.client = httpx.Client(timeout=httpx.Timeout(10.0, read=None), cookies=cookies)
        self.received: dict[str, float] = {}
        self.connected = threading.Event()
        self.status: int | None = None
        self.error: str | None = None
        self.stop = threading.Event()

    def run(self) -> None:
        """Read the stream until the server ends it (``close`` stops the server first)."""
        try:
            with self.client.stream("GET", self.url, headers={"accept": "text/event-stream"}) as response:
                self.status = response.status_code
                self.connected.set()
                event = "message"
                for line in response.iter_lines():
                    if line.startswith("event: "):
                        event = line[7:]
                    elif line.startswith("data: ") and event == "alert":
                        at = time.time() * 1000
                        try:
                            self.received.setdefault(json.loads(line[6:])["id"], at)
                        except (ValueError, KeyError, TypeError):
                            pass
                    elif not line:
                        event = "message"
        except Exception as exc:  # noqa: BLE001  the server going away ends the stream
            if not self.stop.is_set():
                self.error = f"{type(exc).__name__}: {exc}"
        finally:
            self.connected.set()

    def close(self) -> None:
        """Stop waiting and close the HTTP client."""
        self.stop.set()
        self.join(timeout=3)
        self.client.close()


def sign_in_if_asked(page, client, prefix: str) -> str | None:
    """If the server sends the browser to /login, create a throw-away user under the run's prefix and sign in."""
    if "/login" not in page.url:
        return None
    from alerts.store.accounts import Accounts

    password = secrets.token_urlsafe(18)
    Accounts(client, Keys(prefix)).add_user("bench", "duty_officer", "MK", password)
    page.fill("input[name=username]", "bench")
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda u: "/login" not in u, timeout=30_000)
    return "bench (duty_officer, MK)"


def wait_seen(page, expected: int, timeout_s: float) -> int:
    """Wait until ``expected`` alert ids were stamped in the list (or ``timeout_s``); returns how many were."""
    deadline = time.monotonic() + timeout_s
    count = 0
    while time.monotonic() < deadline:
        count = page.evaluate("Object.keys(window.__benchSeen || {}).length")
        if count >= expected:
            break
        time.sleep(0.25)
    return count


#: ``--gpu-process``: not the tests' ``--disable-gpu``: the GPU process draws and composites (SwiftShader, software).
GPU_PROCESS_ARGS = ["--use-angle=swiftshader", "--enable-unsafe-swiftshader"]


def browser_args(gpu_process: bool) -> list[str]:
    """``conftest.BROWSER_ARGS``, or with ``gpu_process`` those without ``--disable-gpu`` plus ``GPU_PROCESS_ARGS``."""
    from tests.conftest import BROWSER_ARGS

    return [a for a in BROWSER_ARGS if a != "--disable-gpu"] + GPU_PROCESS_ARGS if gpu_process else list(BROWSER_ARGS)


def bench_latency(url: str, prefix: str, m: int, spacing_ms: float, places, gpu_process: bool = False) -> dict:
    """Publish ``m`` alerts one every ``spacing_ms`` and time each to the list (ms; p50/p95/max) beside a
    plain redis-py subscriber and a plain SSE client; plus where the time goes and how busy the browser was.
    ``gpu_process``: Chromium with ``GPU_PROCESS_ARGS`` (``browser_args``)."""
    found = browser_or_skip()
    if isinstance(found, dict):
        return found
    sync_playwright, chromium = found
    from alerts.store.producer import send_to_channel
    from tests.conftest import start_server, stop_server

    lat_prefix = f"{prefix}:latency"
    keys = Keys(lat_prefix)
    client = client_for(url)
    tag = f"lat-{uuid.uuid4().hex[:8]}"
    rng = random.Random(2)
    warmup = make_alerts(3, f"{tag}-w", rng, places, spread_minutes=1)
    measured = make_alerts(m, tag, rng, places, spread_minutes=1)
    for alert in warmup + measured:
        alert["releasable_to"] = ["ALL"]  # every viewer may see them
    pattern = rf"{tag}(?:-w)?-\d{{6}}"
    args = browser_args(gpu_process)
    out: dict = {"m": m, "spacing_ms": spacing_ms, "warmup": len(warmup), "chromium": os.path.basename(chromium),
                 "browser_args": args}

    start = time.perf_counter()
    server = start_server(url, lat_prefix)
    out["server_start_s"] = time.perf_counter() - start
    listener = sse_listener = None
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=args)
            try:
                context = browser.new_context(viewport={"width": 1400, "height": 900})
                context.add_init_script(SSE_PROBE_JS)
                page = context.new_page()
                page.goto(server.url + "/", wait_until="domcontentloaded")
                out["signed_in_as"] = sign_in_if_asked(page, client, lat_prefix)
                start = time.perf_counter()
                page.wait_for_function("() => document.body.dataset.live === 'open'", timeout=60_000)
                out["page_live_s"] = time.perf_counter() - start
                page.evaluate(OBSERVER_JS, pattern)

                channel = keys.alerts_channel
                wait_for(lambda: client.pubsub_numsub(channel)[0][1] >= 1, 20, "the ingest worker to subscribe")
                listener = ChannelListener(url, channel)
                listener.start()
                wait_for(lambda: client.pubsub_numsub(channel)[0][1] >= 2, 10, "the baseline subscriber")
                cookies = {c["name"]: c["value"] for c in context.cookies(server.url)}
                sse_listener = SseListener(server.url + "/live/alerts", cookies)
                sse_listener.start()
                sse_listener.connected.wait(10)
                out["sse_client_status"] = sse_listener.status

                # Warm-up (not counted): first render paths, connection setup.
                for alert in warmup:
                    send_to_channel(client, keys, [json.dumps(alert).encode()])
                    time.sleep(spacing_ms / 1000)
                wait_seen(page, len(warmup), 20)

                published: dict[str, float] = {}
                server_cpu_before = cpu_seconds(server.process.pid)
                start = time.perf_counter()
                for i, alert in enumerate(measured):
                    delay = start + i * spacing_ms / 1000 - time.perf_counter()
                    if delay > 0:
                        time.sleep(delay)
                    payload = json.dumps(alert).encode()
                    published[alert["id"]] = time.time() * 1000
                    send_to_channel(client, keys, [payload])
                out["publish_seconds"] = time.perf_counter() - start
                wait_seen(page, len(warmup) + m, 20)
                seen: dict[str, float] = page.evaluate("window.__benchSeen")
                sse: dict[str, float] = page.evaluate("window.__benchSse || {}")
                out["live_applied"] = page.evaluate("Number(document.body.dataset.liveApplied || 0)")
                long_tasks = page.evaluate("window.__benchLongTasks || []")
                server_cpu_s = cpu_seconds(server.process.pid) - server_cpu_before
            finally:
                browser.close()
    finally:
        if listener is not None:
            listener.close()
        stop_server(server)  # also ends the SSE client's stream
        if sse_listener is not None:
            sse_listener.close()
            out["sse_client_error"] = sse_listener.error

    out.update(breakdown(client, keys, published, seen, sse, listener.received, sse_listener.received,
                         long_tasks, server_cpu_s))
    client.close()
    out["meets_target"] = out["arrived"] == m and (out["screen_ms"]["p95"] or 1e9) < LATENCY_TARGET_P95_MS
    return out


def breakdown(client, keys: Keys, published: dict, seen: dict, sse: dict, redis_rx: dict, sse_rx: dict,
              long_tasks: list, server_cpu_s: float) -> dict:
    """The latency figures from the stamps (ms since the epoch): publish -> list and the two baselines,
    and publish -> stored -> SSE event in the browser -> list (the events-stream id is Redis' clock,
    same machine); browser long tasks and server CPU share over the measuring window."""
    screen = [seen[i] - t for i, t in published.items() if i in seen]
    to_redis = [redis_rx[i] - t for i, t in published.items() if i in redis_rx]
    to_sse = [sse_rx[i] - t for i, t in published.items() if i in sse_rx]
    stored_at = {}
    for eid, fields in client.xrange(keys.events):
        stored_at[json.loads(fields[b"alert"])["alert"]["id"]] = int(eid.decode().split("-")[0])
    to_store = [stored_at[i] - t for i, t in published.items() if i in stored_at]
    store_to_screen = [seen[i] - stored_at[i] for i in published if i in seen and i in stored_at]
    store_to_browser = [sse[i] - stored_at[i] for i in published if i in sse and i in stored_at]
    browser_to_screen = [seen[i] - sse[i] for i in published if i in seen and i in sse]
    window_start = min(published.values())
    window_end = max([window_start, *(seen[i] for i in published if i in seen)])
    in_window = [d for at, d in long_tasks if window_start <= at <= window_end]
    window_s = (window_end - window_start) / 1000
    p50_p95 = lambda values: {"p50": pct(values, 50), "p95": pct(values, 95)}
    return {
        "window_s": window_s,
        "browser_long_tasks": {"count": len(in_window), "total_ms": sum(in_window),
                               "max_ms": max(in_window, default=0.0),
                               "busy_share": sum(in_window) / 1000 / window_s if window_s else None},
        "server_cpu_share": server_cpu_s / window_s if window_s and server_cpu_s >= 0 else None,
        "arrived": len(screen),
        # Reached the page but never shown: one flush carried more than the list's 50 items.
        "in_browser_not_listed": sum(1 for i in published if i in sse and i not in seen),
        "screen_ms": p50_p95_max(screen),
        "baseline_redis_ms": p50_p95_max(to_redis),
        "baseline_arrived": len(to_redis),
        "baseline_sse_client_ms": p50_p95_max(to_sse),
        "baseline_sse_client_arrived": len(to_sse),
        "publish_to_stored_ms": p50_p95(to_store),
        "stored_to_screen_ms": p50_p95(store_to_screen),
        "stored_to_browser_ms": p50_p95(store_to_browser),
        "browser_to_screen_ms": p50_p95(browser_to_screen),
        "stored": len(stored_at),
    }


def report_latency(r: dict) -> None:
    """Print section 2: publish -> #alert-list p50/p95/max beside the redis-py subscriber and the plain
    SSE client, arrivals, the breakdown, browser long tasks and server CPU."""
    title = "2. Publish-to-screen latency"
    if "skipped" in r:
        print(f"\n{title}: skipped ({r['skipped']})")
        return
    s, b, c = r["screen_ms"], r["baseline_redis_ms"], r["baseline_sse_client_ms"]
    verdict = "meets" if r["meets_target"] else "MISSES"
    rows = []
    for q in ("p50", "p95", "max"):
        note = f"{verdict} target p95 < {LATENCY_TARGET_P95_MS:.0f} ms" if q == "p95" else ""
        rows.append([f"publish -> #alert-list {q}", fmt_ms(s[q]), f"PUBLISH -> redis-py subscriber {q}",
                     fmt_ms(b[q]), note])
        rows.append(["", "", f"publish -> SSE client (no browser) {q}", fmt_ms(c[q]), ""])
    rows += [
        ["arrived on screen", f"{r['arrived']} / {r['m']}", "arrived at subscriber / SSE client",
         f"{r['baseline_arrived']} / {r['baseline_sse_client_arrived']}",
         f"stored {r['stored'] - r['warmup']}; reached page, not listed {r['in_browser_not_listed']}"],
        ["  publish -> stored (p50 / p95)", fmt_p50_p95(r["publish_to_stored_ms"]), "", "",
         "events-stream id time"],
        ["  stored -> #alert-list (p50 / p95)", fmt_p50_p95(r["stored_to_screen_ms"]), "", "",
         "follower + SSE + browser"],
        ["    stored -> SSE event in browser", fmt_p50_p95(r["stored_to_browser_ms"]), "", "",
         "follower XREAD + SSE"],
        ["    SSE event -> #alert-list", fmt_p50_p95(r["browser_to_screen_ms"]), "", "",
         "live.js batches (rAF) and draws the item"],
    ]
    print_table(f"{title} ({r['m']} alerts, one every {r['spacing_ms']:.0f} ms, {r['warmup']} warm-up not counted)",
                HEADERS, rows)
    lt = r["browser_long_tasks"]
    share = r["server_cpu_share"]
    print(f"   during the {r['window_s']:.1f} s window: browser main thread in long tasks (> 50 ms) "
          f"{lt['count']}x, {lt['total_ms']:,.0f} ms ({(lt['busy_share'] or 0) * 100:.0f}%), longest {lt['max_ms']:,.0f} ms; "
          f"server process CPU {'-' if share is None else f'{share * 100:.0f}%'} of one core")
    print(f"   Chromium {' '.join(r.get('browser_args', []))}")
    print(f"   server start {r['server_start_s']:.1f} s; page live after {r['page_live_s']:.1f} s; "
          f"points applied to the map {r['live_applied']}; signed in as {r['signed_in_as'] or '- (no sign-in asked)'}")
