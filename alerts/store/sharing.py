"""Releasability change requests, kept in Redis until the originating nation decides.

``{p}:releasability-requests`` is a hash: request id -> JSON of
``alerts.core.sharing.ReleasabilityRequest``. A request is decided once:
``decide`` is a compare-and-set (``alerts.store.cas``), so two duty officers
deciding at the same moment cannot both win. Decided requests are kept (the
audit trail holds the same facts; the hash answers "what is pending").
"""
from __future__ import annotations

import secrets
from collections.abc import Callable

from alerts.core.sharing import ReleasabilityRequest
from alerts.store.cas import HashRecords
from alerts.store.client import Client
from alerts.store.keys import Keys


def new_request_id() -> str:
    """A fresh request id (12 hex digits)."""
    return secrets.token_hex(6)


class ReleasabilityRequests:
    """Pending and decided releasability change requests."""

    def __init__(self, client: Client, keys: Keys):
        self.client = client
        self.keys = keys
        self._records = HashRecords(client, keys.releasability_requests, ReleasabilityRequest.model_validate_json,
                                    "request")

    def add(self, request: ReleasabilityRequest) -> None:
        """Store a new request (its id must be new)."""
        if not self.client.hsetnx(self.keys.releasability_requests, request.id, request.model_dump_json()):
            raise ValueError(f"request {request.id!r} exists")

    def get(self, request_id: str) -> ReleasabilityRequest | None:
        """One request, or None."""
        raw = self.client.hget(self.keys.releasability_requests, request_id)
        return ReleasabilityRequest.model_validate_json(raw) if raw else None

    def all(self) -> list[ReleasabilityRequest]:
        """Every request, newest first."""
        raws = self.client.hvals(self.keys.releasability_requests)
        return sorted((ReleasabilityRequest.model_validate_json(r) for r in raws), key=lambda r: r.at, reverse=True)

    def change(self, request_id: str, change: Callable[[ReleasabilityRequest], ReleasabilityRequest | None]
               ) -> tuple[ReleasabilityRequest, ReleasabilityRequest] | None:
        """Apply ``change`` atomically (``alerts.store.cas.compare_and_set``); None if there is no such request."""
        return self._records.change(request_id, change)
