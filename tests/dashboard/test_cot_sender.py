"""``crisisdash cot send``: incidents and assets out to a TAK listener over TCP, as they change."""
from __future__ import annotations

import socket
import threading
from datetime import UTC, datetime

from alerts.core.viewer import Viewer
from alerts.formats.decode import decode_alert
from dashboard.cot_sender import CotSender
from tests.conftest import make_asset, alert_pipeline, make_alert, payload

RS_LEADER = Viewer("rs-leader", "leadership", "RS", via="cli", clearance="UNCLASSIFIED")


def _read_events(connection: socket.socket, want: int) -> list[bytes]:
    """The next ``want`` CoT events off a TAK-style TCP stream (one XML document after another)."""
    buffer, events = b"", []
    connection.settimeout(20)
    while len(events) < want:
        chunk = connection.recv(65536)
        if not chunk:
            break
        buffer += chunk
        while b"</event>" in buffer:
            event, buffer = buffer.split(b"</event>", 1)
            events.append((event + b"</event>").strip())
    return events


def _asset(asset_id: str, nation: str, releasable: list[str]):
    return make_asset(asset_id, 44.0, 20.0, type_="utility_helicopter", nation=nation, releasable_to=releasable,
                      speed_kmh=220)


def test_cts001_the_tcp_sender_streams_released_incidents_and_assets_to_a_tak_listener(centre, client, keys, regions):
    from lxml import etree

    from alerts.store.assets import AssetStore

    pipeline = alert_pipeline(client, keys, regions)
    assets = AssetStore(client, keys)
    before = [make_alert(title="Already open", releasable_to=["ALL"]),
              make_alert(title="Not for RS", releasable_to=["GR"], source="GR")]
    pipeline.process([("test", payload(a)) for a in before])
    assets.put(_asset("heli-rs", "RS", ["RS"]))
    assets.put(_asset("heli-gr", "GR", ["GR"]))
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    stop = threading.Event()
    sender = CotSender(centre, client, keys, "127.0.0.1", port, RS_LEADER)
    thread = threading.Thread(target=sender.run, args=(stop,), daemon=True)
    thread.start()
    try:
        connection, _ = listener.accept()
        first = _read_events(connection, 2)
        assert decode_alert(first[0]).id == before[0]["id"]
        unit = etree.fromstring(first[1])
        assert unit.get("uid") == "crisis.asset.heli-rs" and unit.get("type") == "a-f-A"
        later = make_alert(title="Arrived later", releasable_to=["RS", "MK"])
        pipeline.process([("test", payload(make_alert(title="GR only", releasable_to=["GR"], source="GR"))),
                          ("test", payload(later))])
        second = _read_events(connection, 1)
        assert decode_alert(second[0]).id == later["id"] and decode_alert(second[0]).title == "Arrived later"
        connection.close()
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()


def _crisis_status(event: bytes) -> str | None:
    from lxml import etree

    crisis = etree.fromstring(event).find("detail/crisis")
    return crisis.get("status") if crisis is not None else None


def test_cts002_cancelled_and_resolved_incidents_reach_tak_as_stale_events_and_deletions(centre, client, keys, regions):
    """A TAK client must learn that an incident is over (the sender used to send only open ones)."""
    from lxml import etree

    from tests.conftest import mark

    pipeline = alert_pipeline(client, keys, regions, on_recorded=centre.workflow.open_checklists)
    first, second = make_alert(source="RS", releasable_to=["RS"]), make_alert(source="RS", releasable_to=["RS"])
    pipeline.process([("test", payload(first)), ("test", payload(second))])
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()
    sender = CotSender(centre, client, keys, "127.0.0.1", listener.getsockname()[1], RS_LEADER)
    thread = threading.Thread(target=sender.run, args=(stop,), daemon=True)
    thread.start()
    try:
        connection, _ = listener.accept()
        assert {decode_alert(e).id for e in _read_events(connection, 2)} == {first["id"], second["id"]}
        pipeline.process([("test", payload(make_alert(source="RS", releasable_to=["RS"], msg_type="cancel",
                                                      references=[first["id"]])))])
        cancel_events = _read_events(connection, 4)  # the cancel message itself, the updated alert, its deletion
        by_uid = {etree.fromstring(e).get("uid"): e for e in cancel_events}
        closed = by_uid[f"crisis.alert.{first['id']}"]
        assert _crisis_status(closed) == "cancelled"
        stale, sent = etree.fromstring(closed).get("stale"), etree.fromstring(closed).get("time")
        assert stale <= datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ") and sent
        deletion = etree.fromstring(by_uid[f"crisis.alert.{first['id']}.delete"])
        assert deletion.get("type") == "t-x-d-d"
        assert deletion.find("detail/link").get("uid") == f"crisis.alert.{first['id']}"
        assert deletion.find("detail/__forcedelete") is not None

        centre.workflow.acknowledge(second["id"], mark("duty-rs"))
        centre.workflow.resolve(second["id"], mark("duty-rs"))
        later = _read_events(connection, 3)  # acknowledged, then resolved with its deletion
        statuses = [_crisis_status(e) for e in later]
        assert statuses[:2] == ["acknowledged", "resolved"]
        assert etree.fromstring(later[2]).get("type") == "t-x-d-d"
        connection.close()
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()


def _start(centre, client, keys, listener):
    stop = threading.Event()
    sender = CotSender(centre, client, keys, "127.0.0.1", listener.getsockname()[1], RS_LEADER)
    thread = threading.Thread(target=sender.run, args=(stop,), daemon=True)
    thread.start()
    return stop, thread


def test_cts003_what_changed_while_tak_was_away_is_sent_after_the_reconnect(centre, client, keys, regions):
    from lxml import etree

    pipeline = alert_pipeline(client, keys, regions)
    first = make_alert(source="RS", releasable_to=["RS"])
    pipeline.process([("test", payload(first))])
    listener = socket.create_server(("127.0.0.1", 0))
    stop, thread = _start(centre, client, keys, listener)
    try:
        connection, _ = listener.accept()
        assert decode_alert(_read_events(connection, 1)[0]).id == first["id"]
        connection.close()  # TAK goes away; meanwhile the incident is cancelled
        pipeline.process([("test", payload(make_alert(source="RS", releasable_to=["RS"], msg_type="cancel",
                                                      references=[first["id"]])))])
        connection, _ = listener.accept()  # the sender reconnects by itself
        uids = {etree.fromstring(e).get("uid") for e in _read_events(connection, 4)}  # the cancel and the closed
        assert f"crisis.alert.{first['id']}.delete" in uids  # the cancellation made while away arrives
        connection.close()
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()


def test_cts004_text_that_xml_cannot_carry_never_stops_the_feed(centre, client, keys, regions):
    """U+FFFE, U+FFFF and lone surrogates are legal in JSON but not in XML: replaced, the feed goes on."""
    from alerts.formats.cot.encode import events_document

    pipeline = alert_pipeline(client, keys, regions)
    odd = make_alert(source="RS", releasable_to=["RS"], title="Bridge \ufffe closed \uffff")
    pipeline.process([("test", payload(odd))])
    assert b"Bridge \xef\xbf\xbd closed" in events_document([centre.alerts.get(odd["id"])], datetime.now(UTC))
    listener = socket.create_server(("127.0.0.1", 0))
    stop, thread = _start(centre, client, keys, listener)
    try:
        connection, _ = listener.accept()
        back = decode_alert(_read_events(connection, 1)[0])
        assert back.title == odd["title"]  # our own detail carries the exact text
        later = make_alert(source="RS", releasable_to=["RS"], title="After the odd one")
        pipeline.process([("test", payload(later))])
        assert decode_alert(_read_events(connection, 1)[0]).id == later["id"]
        connection.close()
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()


def test_cts005_a_withdrawn_or_unreleased_incident_leaves_the_tak_picture(centre, client, keys, regions):
    """Narrowed releasability deletes the incident from the user's TAK map; a release adds it; above the
    user's clearance nothing is sent."""
    from lxml import etree

    from alerts.actions import sharing
    from alerts.core.viewer import Viewer

    pipeline = alert_pipeline(client, keys, regions)
    shared = make_alert(source="GR", releasable_to=["GR", "RS"], title="Shared with RS")
    pipeline.process([("test", payload(shared))])
    listener = socket.create_server(("127.0.0.1", 0))
    stop, thread = _start(centre, client, keys, listener)
    try:
        connection, _ = listener.accept()
        assert decode_alert(_read_events(connection, 1)[0]).id == shared["id"]
        pipeline.process([("test", payload(make_alert(source="GR", releasable_to=["RS"], classification="SECRET",
                                                      title="Above the clearance")))])
        centre.index.load(centre.alerts.all_alerts(), centre.alerts.last_event_id())
        duty_gr = Viewer("duty-gr", "duty_officer", "GR", via="session", clearance="SECRET")
        sharing.change_releasability(centre, duty_gr, shared["id"], ["GR"], reason="GR only now")
        (withdrawal,) = _read_events(connection, 1)  # the secret one was never sent: the next is the deletion
        deletion = etree.fromstring(withdrawal)
        assert deletion.get("type") == "t-x-d-d"
        assert deletion.find("detail/link").get("uid") == f"crisis.alert.{shared['id']}"
        connection.close()
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()


def test_cts006_cot_send_stops_when_its_user_is_disabled_or_loses_clearance(redis_url, prefix, client, keys, regions):
    """The TAK feed of ``crisisdash cot send`` never outlives its user's rights (it kept sending SECRET alerts
    after the clearance was lowered, and everything after the user was disabled)."""
    import subprocess
    import sys

    from alerts.store.accounts import Accounts

    accounts = Accounts(client, keys)
    for name in ("me-do", "me-do2"):
        accounts.add_user(name, "duty_officer", "ME", "pw-0123456789abcdef", clearance="SECRET")
    pipeline = alert_pipeline(client, keys, regions)
    pipeline.process([("test", payload(make_alert(title="Open", releasable_to=["ME"], classification="SECRET")))])
    for name, change in (("me-do", lambda: accounts.set_user("me-do", clearance="UNCLASSIFIED")),
                         ("me-do2", lambda: accounts.disable_user("me-do2"))):
        listener = socket.create_server(("127.0.0.1", 0))
        process = subprocess.Popen(
            [sys.executable, "-m", "dashboard.cli", "cot", "send", "--redis-url", redis_url, "--prefix", prefix,
             "--host", "127.0.0.1", "--port", str(listener.getsockname()[1]), "--user", name],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            listener.settimeout(30)
            connection, _ = listener.accept()
            assert decode_alert(_read_events(connection, 1)[0]).title in ("Open", "Later me-do")
            change()
            _, err = process.communicate(timeout=30)
            assert process.returncode == 3 and "stopped" in err, err
            pipeline.process([("test", payload(make_alert(title=f"Later {name}", releasable_to=["ME"],
                                                           classification="SECRET")))])
            connection.settimeout(5)
            rest = b""
            while chunk := connection.recv(65536):
                rest += chunk
            assert f"Later {name}".encode() not in rest
        finally:
            process.kill()
            listener.close()


def test_cts007_an_asset_taken_from_the_viewers_nation_leaves_the_tak_picture(centre, client, keys):
    """Its releasability narrowed: a TAK deletion of its uid, and nothing about assets never released to RS."""
    from lxml import etree

    from alerts.store.assets import AssetStore

    assets = AssetStore(client, keys)
    shared = _asset("heli-shared", "MK", ["MK", "RS"])
    assets.put(shared)
    listener = socket.create_server(("127.0.0.1", 0))
    stop, thread = _start(centre, client, keys, listener)
    try:
        connection, _ = listener.accept()
        assert etree.fromstring(_read_events(connection, 1)[0]).get("uid") == "crisis.asset.heli-shared"
        assets.put(_asset("heli-gr-only", "GR", ["GR"]))
        assets.put(_asset("heli-gr-only", "GR", ["GR", "MK"]))  # changed, never seen by RS: nothing sent
        assets.put(shared.model_copy(update={"releasable_to": ["MK"]}))
        assets.put(_asset("heli-marker", "RS", ["ALL"]))
        deletion, marker = (etree.fromstring(e) for e in _read_events(connection, 2))
        assert deletion.get("type") == "t-x-d-d" and deletion.find("detail/__forcedelete") is not None
        assert deletion.find("detail/link").get("uid") == "crisis.asset.heli-shared"
        assert deletion.find("detail/link").get("type") == "a-f-A"
        assert marker.get("uid") == "crisis.asset.heli-marker"
        connection.close()
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()
