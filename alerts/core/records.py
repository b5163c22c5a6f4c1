"""The base of the domain's pydantic models: instances read back whole share one "fields set", and are read
back from JSON without the walk that removes bidirectional formatting characters when their bytes hold none.

Domain core: no Redis, no Dash.
"""
from __future__ import annotations

from typing import Any, Self

from pydantic import BaseModel

from alerts.core.text_rules import BIDI_FREE, json_may_hold_bidi_controls

#: The validation context of JSON that holds no bidirectional formatting character (``BIDI_FREE``).
_BIDI_FREE = {BIDI_FREE: True}


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

    @classmethod
    def from_json(cls, raw: bytes | str) -> Self:
        """An instance read back from its JSON (``model_validate_json``, e.g. a stored alert's record); the
        models' walk that removes bidirectional formatting characters (``alerts.core.model.Alert``) is skipped
        when one scan of the bytes finds none (``alerts.core.text_rules.json_may_hold_bidi_controls``).
        Raises ``pydantic.ValidationError``."""
        data = raw.encode("utf-8") if isinstance(raw, str) else raw
        return cls.model_validate_json(raw, context=None if json_may_hold_bidi_controls(data) else _BIDI_FREE)
