"""``crisisdash cot listen`` / ``cot subscribe`` as processes, and the CoT listener inside ``crisisdash serve``."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from dashboard.cot_listener import parse_listen, spec_from_settings
from dashboard.settings import Settings
from tests.conftest import DATA, ROOT, Stream, add_user, free_port, serving, wait_for

FEEDS = str(ROOT / "tests" / "data" / "feeds.toml")
FEEDS_TEXT = (ROOT / "tests" / "data" / "feeds.toml").read_text(encoding="utf-8")


def fresh_emergency(uid_suffix: str = "") -> bytes:
    """The ATAK 911 Alert of case 01a, dated now (its times rewritten relative to the clock)."""
    now = datetime.now(UTC)
    stamp = lambda moment: moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")  # noqa: E731
    text = (DATA / "cases" / "01a_cot-911-uid-reuse.xml").read_text(encoding="utf-8")
    text = text.replace("2026-11-29T13:40:00.361Z", stamp(now)).replace("2026-11-29T13:55:00.000Z",
                                                                        stamp(now + timedelta(minutes=15)))
    return text.replace("-9-1-1", f"{uid_suffix}-9-1-1").encode()


def crisisdash(*args: str, **env: str) -> subprocess.Popen:
    log = tempfile.TemporaryFile()
    process = subprocess.Popen([sys.executable, "-m", "dashboard.cli", *args], cwd=ROOT,
                               env={**os.environ, "PYTHONUNBUFFERED": "1", **env},
                               stdout=subprocess.PIPE, stderr=log, text=True)
    process.log = log  # type: ignore[attr-defined]
    return process


def send(port: int, data: bytes) -> None:
    sock = wait_for(lambda: _connected(port), what=f"a listener on port {port}")
    with sock:
        sock.sendall(data)


def _connected(port: int) -> socket.socket | None:
    try:
        return socket.create_connection(("127.0.0.1", port), timeout=5)
    except OSError:
        return None


def test_cot001_a_tak_emergency_sent_to_serve_reaches_its_nations_duty_officers_live(redis_url):
    """The Done-when of the TAK issue: a 911 from a device on the RS listener arrives, as an open alert, on
    the live stream an RS duty officer's page holds open; an HR officer never sees it."""
    port = free_port()
    servers = serving(redis_url, CRISIS_FEEDS=FEEDS, CRISIS_COT_LISTEN=f"tcp=127.0.0.1:{port}",
                      CRISIS_COT_FEED="rs-tak")
    server = next(servers)
    try:
        officer = add_user(redis_url, server.prefix, "rs-officer", "duty_officer", "RS")
        outsider = add_user(redis_url, server.prefix, "hr-officer", "duty_officer", "HR")
        uid = "ANDROID-0a1b2c3d4e5f6789-serve-9-1-1"
        with httpx.stream("GET", f"{server.url}/live/alerts", headers=officer.headers,
                          timeout=httpx.Timeout(30, read=30)) as response:
            assert response.status_code == 200
            live = Stream(response)
            send(port, fresh_emergency("-serve"))
            alert = live.until(uid, "alert")
        assert (alert["title"], alert["severity"], alert["open"], alert["country"]) == (
            "CALL 911 NOW", "high", True, "RS")  # the 911 Alert type is high (alerts.formats.cot.decode)
        assert uid in server.alert_ids(officer)
        assert uid not in server.alert_ids(outsider)  # the rs-tak feed releases to RS and BA only
    finally:
        servers.close()


def test_cot002_cot_listen_puts_what_it_reads_on_the_inbox_tagged_with_its_feed(redis_url, client, keys):
    port = free_port()
    process = crisisdash("cot", "listen", "--redis-url", redis_url, "--prefix", keys.prefix, "--bind", "127.0.0.1",
                         "--tcp-port", str(port), "--feed", "rs-tak", CRISIS_FEEDS=FEEDS)
    try:
        assert "listening for CoT" in process.stdout.readline()
        send(port, fresh_emergency() + b"\n" + fresh_emergency("-2"))
        entries = wait_for(lambda: len(client.xrange(keys.inbox)) == 2 and client.xrange(keys.inbox),
                           what="two inbox entries")
        assert [fields[b"feed"] for _, fields in entries] == [b"rs-tak", b"rs-tak"]
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0


@pytest.mark.parametrize("command", [["listen", "--tcp-port", "0"], ["subscribe", "--host", "127.0.0.1",
                                                                     "--port", "1"]])
def test_cot003_an_unknown_feed_is_refused_before_listening_or_connecting(redis_url, keys, command):
    process = crisisdash("cot", *command, "--redis-url", redis_url, "--prefix", keys.prefix, "--feed", "nobody",
                         CRISIS_FEEDS=FEEDS)
    assert process.wait(timeout=30) == 2
    process.log.seek(0)
    assert "feed 'nobody' is not in the feed registry (known: " in process.log.read().decode()


def test_cot003b_a_hello_file_that_is_not_a_cot_event_is_refused_before_connecting(redis_url, keys, tmp_path):
    hello = tmp_path / "hello.xml"
    hello.write_text('<?xml version="1.0"?><alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"/>')
    process = crisisdash("cot", "subscribe", "--host", "127.0.0.1", "--port", "1", "--hello", str(hello),
                         "--redis-url", redis_url, "--prefix", keys.prefix, "--feed", "rs-tak", CRISIS_FEEDS=FEEDS)
    assert process.wait(timeout=30) == 2
    process.log.seek(0)
    assert f"--hello {hello}: not a CoT event" in process.log.read().decode()


def test_cot004_the_listen_setting_is_checked_and_needs_a_feed():
    assert parse_listen("tcp=8087, udp=239.2.3.1:6969,tls=10.0.0.1:8089") == {
        "tcp": ("0.0.0.0", 8087), "udp": ("239.2.3.1", 6969), "tls": ("10.0.0.1", 8089)}
    for wrong in ("http=80", "tcp=80,tcp=81", "tcp=port"):
        with pytest.raises(ValueError):
            parse_listen(wrong)
    assert spec_from_settings(Settings()) is None
    with pytest.raises(ValueError, match="CRISIS_COT_FEED"):
        spec_from_settings(Settings(cot_listen="tcp=8087"))
    with pytest.raises(ValueError, match="CRISIS_COT_LISTEN"):
        spec_from_settings(Settings(cot_listen="tcp=99999", cot_feed="rs-tak"))


def test_cot005_the_listener_beats_in_health_with_its_counts_and_retrying_while_redis_is_gone(redis_url, client, keys):
    from alerts.core.feeds import FeedRegistry
    from alerts.store import heartbeats
    from alerts.store.client import connect as connect_redis
    from dashboard.cot_listener import ListenSpec, build_listener

    settings = Settings(prefix=keys.prefix)
    feeds = FeedRegistry.load(FEEDS)
    listener = build_listener(ListenSpec("rs-tak", tcp=("127.0.0.1", 0)), settings, client, feeds)
    stop = threading.Event()
    thread = threading.Thread(target=listener.run, args=(stop,), daemon=True)
    thread.start()

    def entry() -> dict:
        return next((w for n, w in heartbeats.workers(client, keys).items() if n.endswith("/cot-listener")), {})

    try:
        wait_for(listener.ready.is_set, what="the listener")
        send(listener.ports["tcp"], fresh_emergency())
        wait_for(lambda: entry().get("counts", {}).get("stored") == 1, what="the count in the heartbeat")
        listener.inbox.client = connect_redis("redis://127.0.0.1:1/0", timeout=0.2)  # Redis gone
        send(listener.ports["tcp"], fresh_emergency("-2"))
        wait_for(lambda: listener.inbox.waiting, what="the listener waiting for Redis")
        wait_for(lambda: entry().get("state") == "retrying", what="retrying in the heartbeat")
        assert "unreachable" in entry()["error"]
        listener.inbox.client = client
        wait_for(lambda: entry().get("state") == "running" and entry()["counts"]["stored"] == 2, what="recovered")
    finally:
        stop.set()
        thread.join(timeout=10)
    assert entry() == {}  # a clean stop removes the entry


def test_cot006_cot_listen_stopped_mid_stream_stores_a_gapless_prefix_once_and_a_reconnect_resumes(
        redis_url, client, keys):
    port = free_port()
    args = ("cot", "listen", "--redis-url", redis_url, "--prefix", keys.prefix, "--bind", "127.0.0.1",
            "--tcp-port", str(port), "--feed", "rs-tak")
    sample = (DATA / "cot" / "fts_a-f-G-U-C.xml").read_bytes().strip()
    events = [sample.replace(b"uid='ANDROID-R52JB0CDC4E'", f"uid='SEQ-{i}'".encode()) for i in range(2000)]
    assert len(set(events)) == 2000  # each its own uid, so a skip or a duplicate shows
    stored = lambda: [fields[b"payload"] for _, fields in client.xrange(keys.inbox)]  # noqa: E731

    process = crisisdash(*args, CRISIS_FEEDS=FEEDS)
    assert "listening for CoT" in process.stdout.readline()
    sock = wait_for(lambda: _connected(port), what="the listener")
    stopped = False
    try:
        for i, event in enumerate(events):
            if i == 1000:
                wait_for(lambda: len(stored()) >= 500, what="500 events stored")
                process.send_signal(signal.SIGTERM)  # stopped while the client streams
                assert process.wait(timeout=15) == 0
                stopped = True
            sock.sendall(event)
    except OSError:
        assert stopped  # the connection ends with the listener, never before
    finally:
        sock.close()
    first = stored()
    whole = len(first) if first[-1] == events[len(first) - 1] else len(first) - 1
    assert first[:whole] == events[:whole]  # in order, nothing skipped, nothing twice
    if whole < len(first):  # what it had read of the event it stopped in is kept too (ingest dead-letters it)
        assert events[whole].startswith(first[-1])
    process = crisisdash(*args, CRISIS_FEEDS=FEEDS)  # the listener is back; the client reconnects
    try:
        assert "listening for CoT" in process.stdout.readline()
        send(port, b"".join(events[whole:]))
        wait_for(lambda: len(stored()) >= len(first) + 2000 - whole, what="all 2,000 events")
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
    assert stored() == first + events[whole:]


def test_cot007_serve_killed_mid_stream_stores_each_event_read_once_and_the_reconnect_resumes(
        redis_url, client, keys):
    """SIGKILL a ``crisisdash serve`` running the CoT listener while a TCP client streams 2,000 TAK emergencies.

    What a hard kill can lose, and so what is not asserted: TCP has no application acknowledgement, so the
    client's ``sendall`` returns once the bytes are in its own socket buffer. Whatever was in the kernel
    buffers between client and listener, and the one batch the listener had read but not yet written to
    Redis, are gone with the process, and the client cannot tell where that began: how many of the
    2,000 survive the kill is not a fixed number.

    What is asserted: the inbox stream holds, after the kill, exactly a prefix of what was sent (every
    event the listener read and acknowledged to the stream, in order, none twice, none skipped before the
    last one stored); the client's reconnect to the restarted ``serve`` resumes after that prefix (it
    sends what is not stored: a TAK client would resend its current picture) and everything it sent after
    the restart is stored, so the inbox ends as the 2,000 events exactly; and the restarted ingest, which
    takes over the entries the killed one had read but not acknowledged, creates each alert exactly once.
    """
    from alerts.core.events import ALERT_CREATED
    from alerts.store.alerts import parse_event
    from tests.conftest import start_server, stop_server

    port = free_port()
    env = {"CRISIS_FEEDS": FEEDS, "CRISIS_COT_LISTEN": f"tcp=127.0.0.1:{port}", "CRISIS_COT_FEED": "rs-tak"}
    events = [fresh_emergency(f"-kill{i}").strip() for i in range(2000)]
    stored = lambda: [fields[b"payload"] for _, fields in client.xrange(keys.inbox)]  # noqa: E731

    def start():
        with pytest.MonkeyPatch.context() as patch:
            for name, value in env.items():
                patch.setenv(name, value)
            return start_server(redis_url, keys.prefix)

    server = start()
    sock = wait_for(lambda: _connected(port), what="the listener in serve")
    killed = False
    try:
        for i, event in enumerate(events):
            if i == 1000:
                wait_for(lambda: len(stored()) >= 500, what="500 events stored")
                server.process.kill()  # SIGKILL while the client streams
                server.process.wait(timeout=15)
                killed = True
            sock.sendall(event)
    except OSError:
        assert killed  # the connection ends with the process, never before
    finally:
        sock.close()
    first = stored()
    assert len(first) >= 500 and first == events[:len(first)]  # a prefix: in order, nothing twice or skipped
    server = start()  # serve is back; the client reconnects and sends the rest
    try:
        send(port, b"".join(events[len(first):]))
        wait_for(lambda: len(stored()) >= 2000, what="all 2,000 events in the inbox")
        assert stored() == events

        def created() -> list[str]:
            return [parse_event(entry_id, fields).alert.id for entry_id, fields in client.xrange(keys.events)
                    if fields[b"kind"] == ALERT_CREATED.encode()]
        wait_for(lambda: len(created()) >= 2000, timeout=240, what="2,000 alerts created by ingest")
        ids = created()
        assert len(ids) == len(set(ids)) == 2000
        assert set(ids) == {f"ANDROID-0a1b2c3d4e5f6789-kill{i}-9-1-1" for i in range(2000)}
    finally:
        stop_server(server)


def test_cot008_cot_listen_of_an_outbound_feed_sends_its_nations_picture_back(
        redis_url, client, keys, regions, tmp_path):
    from alerts.formats.decode import decode_alert
    from tests.conftest import alert_pipeline, make_alert, payload

    feeds = tmp_path / "feeds.toml"
    feeds.write_text(FEEDS_TEXT.replace('cot_uid_prefix = "ANDROID-"', 'cot_uid_prefix = "ANDROID-"\noutbound = true'),
                     encoding="utf-8")
    port = free_port()
    process = crisisdash("cot", "listen", "--redis-url", redis_url, "--prefix", keys.prefix, "--bind", "127.0.0.1",
                         "--tcp-port", str(port), "--feed", "rs-tak", CRISIS_FEEDS=str(feeds))
    try:
        assert "listening for CoT" in process.stdout.readline()
        sock = wait_for(lambda: _connected(port), what="the listener")
        with sock:
            sock.sendall(fresh_emergency("-both-ways"))  # the device sends ...
            incident = make_alert(source="RS", releasable_to=["RS"], title="For RS devices")
            alert_pipeline(client, keys, regions).process([("test", payload(incident))])
            buffer = b""
            while b"For RS devices" not in buffer:  # ... and receives the centre's picture
                chunk = sock.recv(65536)
                assert chunk, "the listener closed the connection"
                buffer += chunk
        event = buffer[buffer.rindex(b"<event", 0, buffer.index(b"For RS devices")):]
        assert decode_alert(event[:event.index(b"</event>") + 8]).id == incident["id"]
        wait_for(lambda: any(b"-both-ways-9-1-1" in fields[b"payload"] for _, fields in client.xrange(keys.inbox)),
                 what="what the device sent, in the inbox")
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
