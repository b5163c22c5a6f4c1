"""Why the domain refused something, as a message id and its values, so that an outer layer can say it in
the user's language.

A ``Refusal`` carries ``template``, an English sentence marked with ``N_`` where it is raised (``%(name)s``
placeholders), and ``values``, what fills them: content (ids, names, numbers, states), never translated.
``str()`` of it is the filled-in English, as before. The action layer passes both on
(``alerts.actions.errors.ActionError.of``), and ``ActionError.localized`` translates them. ``N_`` here is
the same no-op marker as ``alerts.i18n.N_`` (the extractor finds it by name): the core imports nothing
outside itself.
"""
from __future__ import annotations

from collections.abc import Mapping


def N_(message: str) -> str:  # noqa: N802  (the gettext convention)
    """Mark ``message`` for extraction (``python -m alerts.i18n.extract``) without translating it."""
    return message


class Refusal(Exception):
    """A refusal of the domain: ``template`` (marked ``N_``) filled with ``values`` (None: none)."""

    def __init__(self, template: str, values: Mapping[str, object] | None = None):
        self.template = template
        self.values = None if values is None else dict(values)
        super().__init__(template if self.values is None else template % self.values)


class Refused(Refusal, ValueError):
    """A ``Refusal`` that is a ``ValueError``: for checks that also serve as pydantic validators."""
