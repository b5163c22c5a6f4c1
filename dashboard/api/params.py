"""Reading a request: its filters as an ``AlertQuery``, and the caller's address."""
from __future__ import annotations

from datetime import UTC, datetime

from fastapi import Request

from alerts.core.query import AlertQuery, parse_query


def alert_query(request: Request) -> AlertQuery:
    """The request's filters (``alerts.core.query`` documents them); ``BadQuery`` -> 422."""
    params: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        params.setdefault(key, []).append(value)
    return parse_query(params, lambda: datetime.now(UTC))


def client_address(request: Request) -> str:
    """The caller's address ("" when unknown), for the audit trail."""
    return request.client.host if request.client else ""
