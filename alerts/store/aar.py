"""The after-action review's entered parts in Redis: objective ratings and the improvement plan.

``{p}:aar-ratings:{exercise id}`` (hash: objective number -> JSON ``Rating``; a later rating of the same
objective replaces the earlier, the audit trail keeps both) and ``{p}:aar-improvements:{exercise id}`` (hash:
item id -> JSON ``Improvement``; an item posted again with its id replaces it).
"""
from __future__ import annotations

import secrets

from alerts.core.aar import Improvement, Rating
from alerts.store.client import Client, text
from alerts.store.keys import Keys


class AarStore:
    """Objective ratings and improvement plans per exercise (see the module docstring)."""

    def __init__(self, client: Client, keys: Keys):
        self.client = client
        self.keys = keys

    def rate(self, exercise_id: str, rating: Rating) -> None:
        """Store ``rating`` of its objective (replacing an earlier one)."""
        self.client.hset(self.keys.aar_ratings(exercise_id), str(rating.objective), rating.model_dump_json())

    def ratings(self, exercise_id: str) -> dict[int, Rating]:
        """``objective number -> Rating``."""
        raw = self.client.hgetall(self.keys.aar_ratings(exercise_id))
        return {int(text(k)): Rating.model_validate_json(v) for k, v in raw.items()}

    def plan(self, exercise_id: str, item: Improvement) -> Improvement:
        """Store ``item`` (a new id when it has none; else replacing that item); returns it as stored."""
        stored = item if item.id else item.model_copy(update={"id": "imp-" + secrets.token_hex(4)})
        self.client.hset(self.keys.aar_improvements(exercise_id), stored.id, stored.model_dump_json())
        return stored

    def has_item(self, exercise_id: str, item_id: str) -> bool:
        """Whether the plan of ``exercise_id`` holds an item ``item_id``."""
        return bool(self.client.hexists(self.keys.aar_improvements(exercise_id), item_id))

    def improvements(self, exercise_id: str) -> list[Improvement]:
        """The improvement plan, by due date then id."""
        raw = self.client.hvals(self.keys.aar_improvements(exercise_id))
        return sorted((Improvement.model_validate_json(r) for r in raw), key=lambda i: (i.due, i.id))
