"""Why an action was refused, in one vocabulary every front end maps the same way.

| error       | HTTP | meaning                                                     |
|-------------|------|-------------------------------------------------------------|
| ``Forbidden`` | 403 | the viewer's role may not do this                          |
| ``NotFound``  | 404 | no such thing, *or it is not released to the viewer*        |
| ``Conflict``  | 409 | the thing's state does not allow it (``extra`` says more)   |
| ``Invalid``   | 422 | the request itself is wrong                                  |

Language (``alerts.i18n``): a refusal is raised with an English template marked for translation
(``N_``) whose ``%(name)s`` placeholders ``values`` fill in, e.g.
``raise NotFound(N_("no exercise %(exercise)s"), values={"exercise": repr(exercise_id)})``. Values are
content, never translated: ids, names, numbers, and the English text of a lower layer (a parser's or
pydantic's message). ``message`` is the template filled in, in English (the HTTP API's ``detail``, the
logs, the command line); ``localized()`` is the same sentence in the current request's language, for
pages. A lower layer's refusal (``alerts.core.refusals.Refusal``: its own message id and values) is passed on
with ``of``, e.g. ``raise Conflict.of(exc)``, never as ``str(exc)``; one given as a value is localized too.
A message raised without ``values`` and not marked is shown as it is in every language.
"""
from __future__ import annotations

from collections.abc import Mapping

from alerts.core.refusals import Refusal
from alerts.i18n import gettext


class ActionError(Exception):
    """A refused action: ``message`` is for the person (English), ``extra`` for the machine (JSON-able).

    ``template``: the English message (marked with ``N_`` where it is raised), ``values``: what fills its
    ``%(name)s`` placeholders (None: the template has none and is used as it is)."""

    status = 400

    def __init__(self, template: str, *, values: Mapping[str, object] | None = None, **extra):
        self.template = template
        self.values = None if values is None else dict(values)
        self.message = template if self.values is None else template % self.values
        super().__init__(self.message)
        self.extra = extra

    @classmethod
    def of(cls, refusal: Refusal, **extra) -> ActionError:
        """A lower layer's ``Refusal`` (``alerts.core.refusals``) passed on: its message id and values."""
        return cls(refusal.template, values=refusal.values, **extra)

    def localized(self) -> str:
        """``message`` in the current language (``alerts.i18n.gettext`` of the template, filled with the same
        values); the English ``message`` when the catalogue has no translation, or one whose placeholders
        do not match the template's. A value that is itself a ``Refusal`` (a lower layer's reason) is
        localized too."""
        return _localized(self.template, self.values, self.message)


def _localized(template: str, values: Mapping[str, object] | None, english: str) -> str:
    text = gettext(template)
    if values is None:
        return text
    shown = {key: _localized(value.template, value.values, str(value)) if isinstance(value, Refusal) else value
             for key, value in values.items()}
    try:
        return text % shown
    except (KeyError, ValueError, TypeError):
        return english


class Forbidden(ActionError):
    """The viewer's role lacks the permission."""

    status = 403


class NotFound(ActionError):
    """No such alert or asset, or one not released to the viewer (answered exactly alike)."""

    status = 404


class Conflict(ActionError):
    """The current state does not allow it (e.g. already acknowledged: ``extra`` holds by and at)."""

    status = 409


class Invalid(ActionError):
    """The request is malformed (a bad parameter or value)."""

    status = 422
