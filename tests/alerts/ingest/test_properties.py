"""Property: whatever producers send, every message ends in exactly one place and the worker carries on.

Hypothesis throws arbitrary JSON, near-valid alerts with odd values (lone
surrogates, extreme numbers and times, huge or broken areas, references) and
arbitrary XML (CAP-, CoT- and EDXL-shaped trees) at a real stream worker on a
real Redis. After each batch: recorded + duplicate + dead-lettered equals what
was sent, the dead-letter and events streams grew by exactly that, and
nothing is left pending.
"""
from __future__ import annotations

import json
import uuid

import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from alerts.store.keys import Keys
from alerts.store.producer import send_to_stream
from tests.conftest import alert_pipeline, make_alert, stream_ingest

CAP12 = "urn:oasis:names:tc:emergency:cap:1.2"
TAGS = ["alert", "identifier", "sender", "sent", "status", "msgType", "scope", "references", "info", "category",
        "event", "urgency", "severity", "certainty", "headline", "expires", "area", "polygon", "circle", "geocode",
        "value", "valueName", "event", "point", "detail", "contact", "remarks", "emergency", "EDXLDistribution"]

odd_text = st.text(st.characters(codec="utf-8", categories=("L", "N", "P", "S", "Z", "Cc", "Cs")), max_size=40)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=True) | odd_text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(odd_text, children, max_size=4),
    max_leaves=20,
)
FIELDS = ["id", "type", "severity", "title", "description", "location", "area", "reported_at", "source",
          "releasable_to", "exercise", "msg_type", "references", "expires", "note"]


@st.composite
def near_valid_alerts(draw) -> bytes:
    alert = make_alert(id=f"p-{draw(st.integers(0, 5))}", source=draw(st.sampled_from(["RS", "MK", "ALL", "x"])))
    for name in draw(st.lists(st.sampled_from(FIELDS), max_size=3, unique=True)):
        alert[name] = draw(json_values)
    if draw(st.booleans()):
        n = draw(st.integers(3, 400))
        alert["area"] = {"type": "Polygon", "coordinates": [[[14 + (i % 7) * 0.01 * n / 50, 40 + (i % 2) * 8]
                                                             for i in range(n)] + [[14, 40]]]}
    if draw(st.booleans()):
        alert["msg_type"], alert["references"] = "cancel", [f"p-{draw(st.integers(0, 5))}"]
    return json.dumps(alert, ensure_ascii=draw(st.booleans()), allow_nan=True).encode("utf-8", "surrogatepass")


@st.composite
def xml_trees(draw) -> bytes:
    def element(depth: int):
        tag = draw(st.sampled_from(TAGS))
        node = etree.Element(f"{{{CAP12}}}{tag}" if draw(st.booleans()) else tag)
        for name in draw(st.lists(st.sampled_from(["uid", "type", "time", "stale", "lat", "lon", "ce", "version",
                                                   "how", "opex"]), max_size=3, unique=True)):
            node.set(name, draw(st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=20)))
        node.text = draw(st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=30))
        if depth < 3:
            for _ in range(draw(st.integers(0, 3))):
                node.append(element(depth + 1))
        return node

    return etree.tostring(element(0), xml_declaration=True, encoding=draw(st.sampled_from(["UTF-8", "UTF-16",
                                                                                          "ISO-8859-2"])))


payloads = st.lists(json_values.map(lambda v: json.dumps(v, allow_nan=True).encode()) | near_valid_alerts()
                    | xml_trees() | st.binary(max_size=200), min_size=1, max_size=12)


class Recording:
    """A pipeline that keeps the result of every batch it processes."""

    def __init__(self, pipeline):
        self.pipeline = pipeline
        self.store = pipeline.store
        self.results = []

    def process(self, batch):
        result = self.pipeline.process(batch)
        self.results.append(result)
        return result

    def dead_letter(self, letters):
        self.pipeline.dead_letter(letters)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(batch=payloads)
def test_prp001_every_message_ends_once_and_the_worker_survives(redis_url, regions, batch):
    client = redis.Redis.from_url(redis_url)
    keys = Keys(f"prop-{uuid.uuid4().hex[:10]}")
    try:
        pipeline = Recording(alert_pipeline(client, keys, regions))
        worker = stream_ingest(pipeline, block_ms=50)
        worker.ensure_group()
        send_to_stream(client, keys, batch)
        assert worker.run_once() == len(batch)  # raises for no input
        accepted = sum(len(r.accepted) for r in pipeline.results)
        duplicates = sum(len(r.duplicates) for r in pipeline.results)
        dead = sum(len(r.dead) for r in pipeline.results)
        assert accepted + duplicates + dead == len(batch)
        assert client.xlen(keys.dead_letters) == dead
        assert sum(1 for _, f in client.xrange(keys.events) if f[b"kind"] == b"alert.created") == accepted
        assert client.xpending(keys.inbox, keys.ingest_group)["pending"] == 0
    finally:
        found = list(client.scan_iter(match=f"{keys.prefix}:*", count=1000))
        if found:
            client.delete(*found)
        client.close()
