"""``JsonBody``: a JSON request body the app cannot use is refused at the edge, with a reason, never a 500.

Python's ``json`` (which FastAPI and Dash parse bodies with) accepts ``NaN``,
``Infinity`` and ``-Infinity`` and reads ``1e999`` as infinity, none of them
JSON (RFC 8259 section 6); FastAPI's 422 then echoed the value back and failed
to encode it (500). This middleware parses every JSON body (``Content-Type``
``application/json`` or ``*/*+json``) of a ``POST``/``PUT``/``PATCH``/``DELETE``
before the app does, with those refused (``strict_loads``):

- on the API and sign-in: a non-finite number (or an integer too long for
  Python to read) is ``422 {"detail": "..."}`` naming no value; a body that is
  no JSON at all goes on to FastAPI, whose 422 (``json_invalid``) echoes nothing;
- on Dash's callback endpoint (``POST /_dash-update-component``): a body that
  is not a callback request of this app (not JSON, not an object, an output no
  callback has, inputs or state not the callback's count of ``{"id",
  "property"}`` items, outputs not its count: ``callback_problem``) is ``400 {"detail": "..."}``,
  logged at most as INFO, where Dash answered a 500.

Bodies are bounded by ``BodyLimit`` outside this one; the body read is handed
on to the app as it came.
"""
from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Callable, Mapping

log = logging.getLogger(__name__)

#: Dash's callback endpoint (POST only), relative to the app's root.
CALLBACK_PATH = "/_dash-update-component"


class NonFinite(ValueError):
    """A JSON body holds a number JSON has no room for (``NaN``, ``Infinity``, one past a float's range)."""


#: The reason a body with such a number is refused (the same for all: it names no value of the body).
NON_FINITE = "the JSON body holds a number JSON cannot carry (NaN, Infinity, or one past a 64-bit float's range)"


def _constant(_name: str) -> float:
    raise NonFinite(NON_FINITE)


def _number(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise NonFinite(NON_FINITE)
    return value


#: Deepest nesting of arrays and objects a JSON body may have (the app's bodies nest a few levels; a deep one
#: made ``json.loads``, or the 422 that echoed it, recurse until ``RecursionError``: a 500).
MAX_DEPTH = 64
TOO_DEEP = f"the body nests arrays or objects deeper than {MAX_DEPTH} levels"


SURROGATE = "the body holds a lone UTF-16 surrogate (\\ud800-\\udfff): no text can hold it"
_SURROGATES = re.compile("[\ud800-\udfff]")


def _depth(value) -> int:
    """How deep arrays and objects nest in ``value`` (iteratively: no recursion to run out of); raises
    ``NonFinite(SURROGATE)`` for a string (a key or a value) holding a lone surrogate, which JSON's
    ``\\uXXXX`` escapes can carry but UTF-8 cannot (an answer echoing it failed with a 500)."""
    deepest, todo = 0, [(value, 1)]
    while todo:
        item, level = todo.pop()
        if isinstance(item, str):
            if _SURROGATES.search(item):
                raise NonFinite(SURROGATE)
        elif isinstance(item, (list, dict)):
            deepest = max(deepest, level)
            if isinstance(item, dict):
                todo.extend((key, level + 1) for key in item)
            todo.extend((child, level + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def strict_loads(body: bytes | str):
    """``json.loads`` that raises ``NonFinite`` for ``NaN``, ``Infinity``, ``-Infinity`` and a number that
    overflows a float (``1e999``), for an integer too long to read, for arrays or objects nested deeper
    than ``MAX_DEPTH`` (its message ``TOO_DEEP``) and for a lone surrogate in a string (``SURROGATE``);
    ``json.JSONDecodeError`` for anything that is no JSON."""
    try:
        value = json.loads(body, parse_constant=_constant, parse_float=_number)
    except NonFinite:
        raise
    except json.JSONDecodeError:
        raise
    except RecursionError as error:
        raise NonFinite(TOO_DEEP) from error
    except ValueError as error:  # int() past sys.get_int_max_str_digits
        raise NonFinite(NON_FINITE) from error
    if _depth(value) > MAX_DEPTH:
        raise NonFinite(TOO_DEEP)
    return value


def _is_prop(item) -> bool:
    return (isinstance(item, dict) and isinstance(item.get("id"), (str, dict))
            and isinstance(item.get("property"), str))


def _props(value, count: int | None = None) -> bool:
    """``value`` is a list of ``{"id", "property"}`` items or lists of them (pattern-matching), ``count`` long."""
    if not isinstance(value, list) or (count is not None and len(value) != count):
        return False
    return all(_is_prop(item) or (isinstance(item, list) and all(_is_prop(i) for i in item)) for item in value)


def _count(indices) -> int:
    """How many outputs a (nested) grouping of output indices names."""
    if isinstance(indices, int):
        return 1
    return sum(_count(i) for i in (indices.values() if isinstance(indices, dict) else indices))


def callback_problem(body, callbacks: Mapping[str, dict]) -> str | None:
    """Why ``body`` (parsed JSON) is no callback request for ``callbacks`` (Dash's ``app.callback_map``), or
    None when Dash can dispatch it."""
    if not isinstance(body, dict):
        return "a callback request is a JSON object"
    output = body.get("output")
    callback = callbacks.get(output) if isinstance(output, str) else None
    if callback is None:
        return "no callback has this output"
    outputs, indices = body.get("outputs", []), callback.get("outputs_indices", 0)
    if callback.get("no_output"):
        pass  # Dash ignores what was sent
    elif isinstance(indices, int):  # one output: one item (a list of them for a pattern-matching one)
        if not (_is_prop(outputs) or _props(outputs)):
            return "outputs must be the callback's {id, property} items"
    elif not _props(outputs, _count(indices)):
        return "outputs must be the callback's {id, property} items"
    if not _props(body.get("inputs", []), len(callback.get("inputs", []))):
        return "inputs must be the callback's {id, property} items"
    if not _props(body.get("state", []), len(callback.get("state", []))):
        return "state must be the callback's {id, property} items"
    changed = body.get("changedPropIds", [])
    if not isinstance(changed, list) or not all(isinstance(i, str) for i in changed):
        return "changedPropIds must be a list of strings"
    return None


def _content_type(scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            return value.decode("latin-1").split(";")[0].strip().lower()
    return ""


def _is_json(content_type: str) -> bool:
    return content_type == "application/json" or (content_type.startswith("application/")
                                                   and content_type.endswith("+json"))


class JsonBody:
    """ASGI middleware (see the module docstring); ``callbacks`` gives Dash's callback map (output id ->
    callback), read at each request."""

    def __init__(self, app, callbacks: Callable[[], Mapping[str, dict]]):
        self.app = app
        self.callbacks = callbacks

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH", "DELETE"):
            await self.app(scope, receive, send)
            return
        callback = scope["path"] == CALLBACK_PATH
        json_body = _is_json(_content_type(scope))
        if not callback and not json_body:
            await self.app(scope, receive, send)
            return
        messages, chunks = [], []
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break  # the client went away: let the app see that
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        problem = None
        if callback and not json_body:
            problem = "a callback request is sent as application/json"
        elif body or callback:
            try:
                value = strict_loads(body)
            except NonFinite as error:
                problem = str(error)
            except json.JSONDecodeError:
                problem = "the body is not JSON" if callback else None
            else:
                problem = callback_problem(value, self.callbacks()) if callback else None
        if problem is not None:
            if callback:
                log.info("callback request refused: %s", problem)
            await _refuse(send, 400 if callback else 422, problem)
            return

        async def replay():
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)


async def _refuse(send, status: int, reason: str) -> None:
    body = json.dumps({"detail": reason}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
