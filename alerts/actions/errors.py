"""Why an action was refused, in one vocabulary every front end maps the same way.

| error       | HTTP | meaning                                                     |
|-------------|------|-------------------------------------------------------------|
| ``Forbidden`` | 403 | the viewer's role may not do this                          |
| ``NotFound``  | 404 | no such thing, *or it is not released to the viewer*        |
| ``Conflict``  | 409 | the thing's state does not allow it (``extra`` says more)   |
| ``Invalid``   | 422 | the request itself is wrong                                  |
"""
from __future__ import annotations


class ActionError(Exception):
    """A refused action: ``message`` is for the person, ``extra`` for the machine (JSON-able)."""

    status = 400

    def __init__(self, message: str, **extra):
        super().__init__(message)
        self.message = message
        self.extra = extra


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
