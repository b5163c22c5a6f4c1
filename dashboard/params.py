"""Reading a request: its filters as an ``AlertQuery`` (documented in OpenAPI), and the caller's address."""
from __future__ import annotations

from datetime import UTC, datetime

from fastapi import Query, Request

from alerts.core.query import AlertQuery, parse_query

_MANY = "repeat the parameter or separate values with commas"
#: The largest paging offset accepted (larger: 422): beyond any result the read models hold.
MAX_OFFSET = 10_000_000


def alert_query(request: Request) -> AlertQuery:
    """The request's filters (``alerts.core.query`` documents them); ``BadQuery`` -> 422."""
    params: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        params.setdefault(key, []).append(value)
    return parse_query(params, lambda: datetime.now(UTC))


def alert_filters(
    request: Request,
    severity: list[str] | None = Query(None, description=f"critical, high, medium, low ({_MANY}); "
                                                         "present but empty: none"),
    type: list[str] | None = Query(None, description=f"alert types ({_MANY})"),  # noqa: A002
    country: list[str] | None = Query(None, description=f"ISO 3166-1 alpha-2, XK for Kosovo ({_MANY})"),
    since: str | None = Query(None, description="reported at or after, ISO 8601 with offset (1900-2200)"),
    until: str | None = Query(None, description="reported before, ISO 8601 with offset (1900-2200)"),
    window_hours: str | None = Query(None, description="reported within the last N hours (0 < N <= 87840)"),
    exercise: str | None = Query(None, description="all (default), real, exercise"),
    status: str | None = Query(None, description="all (default), open, closed"),
    identifier: str | None = Query(None, description="the producer's id: every alert that carries it"),
) -> AlertQuery:
    """FastAPI dependency: the filters as an ``AlertQuery`` (each parameter declared, so OpenAPI lists it)."""
    return alert_query(request)


def client_address(request: Request) -> str:
    """The caller's address ("" when unknown), for the audit trail."""
    return request.client.host if request.client else ""
