"""``NotFound``: 404 for a path that is no page, route or static file, instead of Dash's page shell.

Dash's FastAPI backend adds a catch-all ``GET /{path:path}`` that answers
the app's page (200) for any path, so ``/live/nope`` or ``/openapi.yaml``
looked like pages. This middleware answers 404 for a ``GET``/``HEAD`` whose
path no route but that catch-all matches and which is no registered page
(``dash.page_registry``, with or without a trailing slash): a page request
(``Accept: text/html``) gets a small HTML page with the deployment's lowest
classification marking, in the browser's language (``Accept-Language``,
``alerts.i18n.negotiate``: this answers outside the authentication, so no
user's choice is known), anything else JSON ``{"detail": "Not Found"}``. A
``GET``/``HEAD`` of a path that only routes of other methods take (Dash's
``POST``-only ``/_dash-update-component``, ``/api/v1/alerts/{id}/resolve``...)
is ``405 {"detail": "Method Not Allowed"}`` with ``Allow`` (RFC 9110 section
15.5.6), not the page shell the catch-all would answer.
"""
from __future__ import annotations

import html

import dash
from starlette.routing import Match

from alerts import i18n
from alerts.i18n import gettext as _

CATCH_ALL = {"{path:path}", "/{path:path}"}


def _not_found_page(marking: str) -> bytes:
    """The 404 page in the current language (``alerts.i18n``), marked with ``marking`` (never translated)."""
    banner = (f'<div class="classification top marking-level-0" data-translate="no" translate="no">'
              f'{html.escape(marking)}</div>')
    text = {key: html.escape(value) for key, value in {
        "title": _("Not found") + " · " + _("Crisis dashboard"), "heading": _("Not found"),
        "none": _("There is no page at this address."), "home": _("Go to the live map")}.items()}
    return (f'<!DOCTYPE html><html lang="{i18n.current()}"><head><meta charset="utf-8"><title>{text["title"]}'
            f'</title><link rel="stylesheet" href="/assets/style.css"></head><body><div class="frame">{banner}'
            f'<main class="not-found"><h1>{text["heading"]}</h1><p>{text["none"]} '
            f'<a href="/">{text["home"]}</a>.</p></main>{banner.replace(" top ", " bottom ")}</div>'
            f'</body></html>').encode()


class NotFound:
    """ASGI middleware (see the module docstring) over the FastAPI ``server`` whose routes it consults."""

    def __init__(self, app, server, marking: str):
        self.app = app
        self.server = server
        self.marking = marking
        self._pages: dict[str, bytes] = {}  # the page by language (shipped tags: a bounded set)

    def page(self, accept_language: str | None) -> bytes:
        """The 404 page in the shipped language that best answers ``accept_language``."""
        tag = i18n.negotiate(accept_language)
        if tag not in self._pages:
            spoken = i18n.use(tag)
            try:
                self._pages[tag] = _not_found_page(self.marking)
            finally:
                i18n.reset(spoken)
        return self._pages[tag]

    def _known(self, scope) -> bool | set[str]:
        """True when a page or a route (besides the catch-all) takes ``scope``; the methods of the routes that
        take its path with another method only; else False."""
        path = scope["path"]
        pages = {page["path"] for page in dash.page_registry.values()}
        if path in pages or (path.endswith("/") and path.rstrip("/") in pages):
            return True
        routes = [r for r in self.server.router.routes if getattr(r, "path", None) not in CATCH_ALL]
        if any(route.matches(scope)[0] == Match.FULL for route in routes):
            return True
        others = {method for method in ("POST", "PUT", "PATCH", "DELETE")
                  if any(route.matches({**scope, "method": method})[0] == Match.FULL for route in routes)}
        return others or False

    async def __call__(self, scope, receive, send):
        known = (scope["type"] == "http" and scope["method"] in ("GET", "HEAD")) and self._known(scope)
        if known is True or scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        if known:
            body = b'{"detail": "Method Not Allowed"}'
            await send({"type": "http.response.start", "status": 405,
                        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                    (b"allow", ", ".join(sorted(known)).encode())]})
            await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})
            return
        accept = next((v for k, v in scope.get("headers", []) if k == b"accept"), b"")
        language = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k == b"accept-language"), None)
        body, kind = ((self.page(language), b"text/html; charset=utf-8") if b"text/html" in accept
                      else (b'{"detail": "Not Found"}', b"application/json"))
        await send({"type": "http.response.start", "status": 404,
                    "headers": [(b"content-type", kind), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})
