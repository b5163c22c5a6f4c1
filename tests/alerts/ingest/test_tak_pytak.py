"""The listener driven by a real TAK client library (pytak, PyPI) over TCP, UDP and TLS, XML and protobuf,
each message ending as an alert or a dead letter with its reason."""
from __future__ import annotations

import asyncio
from configparser import ConfigParser
from datetime import UTC, datetime

import pytak
import pytest

from alerts.core.feeds import FeedRegistry
from alerts.formats.cot.tak import MESH_HEADER
from alerts.ingest.tak.listener import Endpoints, tls_context
from alerts.store.alerts import AlertStore
from tests.alerts.ingest.tak_certs import issue_certificates
from tests.alerts.ingest.test_tak_listener import EMERGENCY, EVENTS, LOCAL, listening, payloads, running
from tests.conftest import ROOT, alert_pipeline, run_async, stream_ingest, wait_for

RECEIVED = datetime(2026, 11, 29, 13, 40, 30, tzinfo=UTC)  # while case 01a's emergency is fresh


def send_with_pytak(url: str, messages: list[bytes], **options: str) -> None:
    """Open pytak's client for ``url`` (``tcp://``, ``udp+wo://``: write-only, no socket bound to the port,
    ``tls://``) and send ``messages`` with its TX worker (which converts to TAK protobuf when ``TAK_PROTO=1``)."""
    parser = ConfigParser()
    parser["test"] = {"COT_URL": url, **options}
    config = parser["test"]

    async def main() -> None:
        reader, writer = await pytak.protocol_factory(config)
        worker = pytak.TXWorker(asyncio.Queue(), config, writer)
        for message in messages:
            await worker.send_data(message)
        if hasattr(writer, "close"):
            writer.close()

    run_async(main)  # (its own thread: a browser test's playwright loop may be running in this one)


@pytest.fixture
def ingest(client, keys, regions):
    """A running stream ingest worker that routes by the test feed registry, at a fixed receipt time."""
    feeds = FeedRegistry.load(ROOT / "tests" / "data" / "feeds.toml")
    worker = stream_ingest(alert_pipeline(client, keys, regions, feeds=feeds, clock=lambda: RECEIVED))
    with running(worker):
        yield AlertStore(client, keys)


def dead_reasons(client, keys) -> list[str]:
    return [fields[b"reason"].decode() for _, fields in client.xrange(keys.dead_letters)]


@pytest.mark.parametrize("proto", ["0", "1"])
def test_tak201_pytak_over_tcp_xml_and_protobuf_ends_as_an_alert_and_dead_letters(client, keys, ingest, proto):
    with listening(client, keys, Endpoints(tcp=LOCAL)) as listener:
        send_with_pytak(f"tcp://127.0.0.1:{listener.ports['tcp']}", [EMERGENCY, EVENTS[1]], TAK_PROTO=proto)
        stored = payloads(client, keys, 2)
        alert = wait_for(lambda: ingest.get("ANDROID-0a1b2c3d4e5f6789-9-1-1"), what="the emergency stored")
        reasons = wait_for(lambda: dead_reasons(client, keys), what="the position report dead-lettered")
    assert all(p.startswith(MESH_HEADER) for p in stored) == (proto == "1")
    assert alert.routing.feed == "rs-tak" and alert.alert.title
    assert "position report" in reasons[0] or "a-f-G-U-C" in reasons[0]


@pytest.mark.parametrize("proto", ["0", "1"])
def test_tak202_pytak_over_udp_unicast_xml_and_protobuf(client, keys, ingest, proto):
    with listening(client, keys, Endpoints(udp=LOCAL)) as listener:
        send_with_pytak(f"udp+wo://127.0.0.1:{listener.ports['udp']}", [EMERGENCY], TAK_PROTO=proto)
        stored = payloads(client, keys, 1)
        alert = wait_for(lambda: ingest.get("ANDROID-0a1b2c3d4e5f6789-9-1-1"), what="the emergency stored")
    # pytak sends the streaming protobuf form to a unicast address; it is stored in mesh form
    assert stored[0].startswith(MESH_HEADER) == (proto == "1")
    assert alert.routing.nation == "RS"


def test_tak203_pytak_over_tls_with_a_client_certificate(client, keys, ingest, tmp_path):
    pki = issue_certificates(tmp_path)
    endpoints = Endpoints(tls=LOCAL, tls_context=tls_context(pki.server_cert, pki.server_key, pki.ca))
    with listening(client, keys, endpoints) as listener:
        send_with_pytak(f"tls://127.0.0.1:{listener.ports['tls']}", [EMERGENCY], TAK_PROTO="1",
                        PYTAK_TLS_CLIENT_CERT=str(pki.client_cert), PYTAK_TLS_CLIENT_KEY=str(pki.client_key),
                        PYTAK_TLS_CLIENT_CAFILE=str(pki.ca), PYTAK_TLS_DONT_CHECK_HOSTNAME="1")
        alert = wait_for(lambda: ingest.get("ANDROID-0a1b2c3d4e5f6789-9-1-1"), what="the emergency stored")
    assert alert.routing.feed == "rs-tak"
