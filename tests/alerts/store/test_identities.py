"""Recording by producer identity (alerts.store.identities) on a real Redis: keys are never taken from another alert."""
from __future__ import annotations

import hashlib
import uuid

from alerts.core.identity import identity_of
from alerts.core.model import Alert
from alerts.store.alerts import AlertStore
from alerts.store.workflow import WorkflowStore
from tests.conftest import alert_pipeline, make_alert, payload


def suffixed(producer_id: str, identity: str, n: int = 0) -> str:
    """The key RECORD gives a colliding identity: ``<id>~<12 hex of sha1(identity[#n])>``."""
    seed = identity if n == 0 else f"{identity}#{n}"
    return f"{producer_id}~{hashlib.sha1(seed.encode()).hexdigest()[:12]}"


def test_idn001_a_suffixed_key_held_by_another_alert_is_passed_over_not_overwritten(client, keys, regions, templates):
    store = AlertStore(client, keys)
    workflow = WorkflowStore(client, keys, store, templates)
    pipeline = alert_pipeline(client, keys, regions, store=store, on_recorded=workflow.open_checklists)
    producer_id = f"X-{uuid.uuid4().hex[:6]}"
    intruder = make_alert(id=producer_id, source="MK", title="Second alert with a taken id")
    squatted = suffixed(producer_id, identity_of(Alert.model_validate(intruder)))
    # The tester's repro: an alert whose own id is exactly the key the collision will be given...
    bystander = make_alert(id=squatted, source="RS", title="Bystander")
    first = make_alert(id=producer_id, source="RS", title="First")
    pipeline.process([("t", payload(bystander)), ("t", payload(first))])
    steps_before = workflow.state(squatted)
    # ...then the same producer id from another identity.
    (recorded,) = pipeline.process([("t", payload(intruder))]).accepted
    assert recorded.id == suffixed(producer_id, recorded.identity, 1) != squatted
    assert store.get(squatted).alert.title == "Bystander" and store.get(squatted).alert.source == "RS"
    assert workflow.state(squatted) == steps_before  # its checklist was not taken over
    assert store.get(recorded.id).alert.title == "Second alert with a taken id"
    assert store.get(producer_id).alert.title == "First"
    assert pipeline.process([("t", payload(intruder))]).duplicates == [recorded.id]  # idempotent on its new key
    assert client.xlen(keys.events) == 3


def test_idn002_a_renewed_emergency_passes_over_a_key_held_by_another_alert(client, keys, regions):
    from datetime import UTC, datetime, timedelta

    from tests.alerts.ingest.test_references import cot

    pipeline = alert_pipeline(client, keys, regions)
    uid = f"ANDROID-{uuid.uuid4().hex[:8]}-9-1-1"
    now = datetime.now(UTC).replace(microsecond=0)
    first = pipeline.process([("tak", cot("b-a-o-tbl", uid, now - timedelta(minutes=5)))]).accepted[0]
    pipeline.process([("tak", cot("b-a-o-can", uid, now - timedelta(minutes=4)))])
    second_report = cot("b-a-o-tbl", uid, now)
    message_key = f"{first.identity}@{now.isoformat()}"
    squatted = suffixed(uid, message_key)
    pipeline.process([("t", payload(make_alert(id=squatted, source="RS", title="Bystander")))])
    (second,) = pipeline.process([("tak", second_report)]).accepted
    assert second.id == suffixed(uid, message_key, 1)
    assert AlertStore(client, keys).get(squatted).alert.title == "Bystander"
