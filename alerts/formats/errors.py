"""The one refusal every decoder raises, and how a validation error becomes its reason.

Every refusal of a payload is a ``Rejected`` with a reason a person can read;
ingest puts the raw payload and that reason in a dead-letter stream.
"""
from __future__ import annotations

from pydantic import ValidationError

#: How many problems of one validation error are named in a reason.
MAX_PROBLEMS = 8


class Rejected(Exception):
    """A payload that cannot be taken, with the reason (one or a few lines of text)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason

    def __str__(self) -> str:
        return self.reason


class ForAssets(Rejected):
    """Not an alert but an asset message (a CoT position report, ``a-*``): alert ingest, when it is told
    where asset messages go, hands the payload to asset ingest instead of dead-lettering it."""


def validation_reason(error: ValidationError, what: str = "alert") -> str:
    """``invalid <what>: <field>: <problem>; ...`` naming at most ``MAX_PROBLEMS`` problems."""
    problems = error.errors()
    parts = []
    for item in problems[:MAX_PROBLEMS]:
        where = ".".join(str(p) for p in item["loc"]) or what
        parts.append(f"{where}: {item['msg']}")
    if len(problems) > MAX_PROBLEMS:
        parts.append(f"... and {len(problems) - MAX_PROBLEMS} more")
    return f"invalid {what}: " + "; ".join(parts)
