"""The base of the domain's pydantic models: instances read back whole share one "fields set".

Domain core: no Redis, no Dash.
"""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class Record(BaseModel):
    """A pydantic model whose instances share one "fields set" when every field was given.

    Pydantic keeps, per instance, the set of the field names it was given (``model_fields_set``): 0.2-2 KB
    each, over half of what a stored alert costs in memory (its records are read back from their JSON, where
    every field is given). A full set cannot change (no field name is missing from it; these models are
    frozen, and a copy gets its own set), so one per class is shared. Nothing else differs.
    """

    def model_post_init(self, _context: Any) -> None:
        """Share the class's full fields set when this instance was given every field (see the class)."""
        cls = type(self)
        full = cls.__dict__.get("_full_fields_set")
        if full is None:
            full = set(cls.model_fields)
            type.__setattr__(cls, "_full_fields_set", full)
        if self.__pydantic_fields_set__ == full:
            object.__setattr__(self, "__pydantic_fields_set__", full)
