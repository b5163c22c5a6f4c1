"""``AlertQuery`` to and from URL query parameters (API, live stream and map page share them).

Parameters (each may repeat or be comma-separated): ``severity``, ``type``,
``country``; ``since``/``until`` (ISO 8601 with offset); ``window_hours``
(reported within the last N hours); ``exercise`` (all|real|exercise);
``status`` (all|open|closed).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from urllib.parse import urlencode

from fastapi import HTTPException

from alerts.model import AlertType, Severity
from alerts.query import AlertQuery


def _values(params: Mapping[str, Sequence[str]], name: str) -> frozenset[str]:
    values: set[str] = set()
    for raw in params.get(name, ()):
        values.update(v.strip() for v in raw.split(",") if v.strip())
    return frozenset(values)


def _one(params: Mapping[str, Sequence[str]], name: str) -> str | None:
    values = params.get(name) or ()
    return values[-1] if values else None


def _time(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise HTTPException(422, f"{name}: not an ISO 8601 time: {value!r}") from None
    if parsed.tzinfo is None:
        raise HTTPException(422, f"{name}: needs a UTC offset (e.g. 2026-11-27T10:00:00Z)")
    return parsed


def _choice(value: str | None, allowed: set[str], name: str, default: str) -> str:
    value = value or default
    if value not in allowed:
        raise HTTPException(422, f"{name}: must be one of {sorted(allowed)}")
    return value


def parse_query(params: Mapping[str, Sequence[str]], now: Callable[[], datetime]) -> AlertQuery:
    severities = _values(params, "severity")
    types = _values(params, "type")
    bad = (severities - {s.value for s in Severity}) | (types - {t.value for t in AlertType})
    if bad:
        raise HTTPException(422, f"unknown severity or type: {sorted(bad)}")
    since = _time(_one(params, "since"), "since")
    window = _one(params, "window_hours")
    if window:
        try:
            hours = float(window)
        except ValueError:
            raise HTTPException(422, "window_hours: must be a number") from None
        since = max(filter(None, [since, now() - timedelta(hours=hours)]))
    return AlertQuery(
        severities=severities,
        types=types,
        countries=frozenset(c.upper() for c in _values(params, "country")),
        since=since,
        until=_time(_one(params, "until"), "until"),
        exercise=_choice(_one(params, "exercise"), {"all", "real", "exercise"}, "exercise", "all"),  # type: ignore[arg-type]
        status=_choice(_one(params, "status"), {"all", "open", "closed"}, "status", "all"),  # type: ignore[arg-type]
    )


def encode_filters(severities=(), types=(), countries=(), window_hours=None, exercise="all") -> str:
    """The query string for the same filters (used by the map page for its live stream)."""
    params: list[tuple[str, str]] = []
    params += [("severity", s) for s in severities or ()]
    params += [("type", t) for t in types or ()]
    params += [("country", c) for c in countries or ()]
    if window_hours:
        params.append(("window_hours", str(window_hours)))
    if exercise and exercise != "all":
        params.append(("exercise", exercise))
    return urlencode(params)
