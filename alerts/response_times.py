"""Reads what the workflow recorded (acknowledgments, resolutions, escalations) for the situation figures."""
from __future__ import annotations

import json
from datetime import datetime

import redis

from alerts.keys import Keys
from alerts.situation import ResponseTimes


def _marks(raw: dict) -> dict[str, tuple[str, datetime]]:
    marks = {}
    for alert_id, value in raw.items():
        data = json.loads(value)
        key = alert_id.decode() if isinstance(alert_id, bytes) else alert_id
        marks[key] = (data["by"], datetime.fromisoformat(data["at"]))
    return marks


def read_response_times(client: redis.Redis, keys: Keys) -> ResponseTimes:
    pipe = client.pipeline(transaction=False)
    pipe.hgetall(keys.acks)
    pipe.hgetall(keys.resolutions)
    pipe.hgetall(keys.escalation)
    acks, resolutions, escalations = pipe.execute()
    levels = {(k.decode() if isinstance(k, bytes) else k): int(json.loads(v)["level"]) for k, v in escalations.items()}
    return ResponseTimes(acknowledged=_marks(acks), resolved=_marks(resolutions), escalation=levels)
