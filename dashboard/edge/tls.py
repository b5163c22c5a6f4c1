"""HTTPS for ``crisisdash serve``: ``--certfile``/``--keyfile`` handed to uvicorn (Python's ``ssl`` module).

``check_tls`` refuses, before anything starts, a certificate without its key
(or the reverse) and files that cannot be read; ``uvicorn_tls`` gives
``uvicorn.run`` its ``ssl_certfile``/``ssl_keyfile``; ``served_url`` is the
address the start-up banner prints (``https://`` when serving TLS). Served over HTTPS (or
behind a proxy that terminates TLS and says so with ``X-Forwarded-Proto``),
responses carry HSTS and ``Secure`` cookies (``dashboard.edge.headers``).
"""
from __future__ import annotations

import os

from dashboard.settings import Settings


def check_tls(settings: Settings) -> None:
    """Raise ``SystemExit`` naming the problem when the TLS settings cannot be used."""
    cert, key = settings.tls_certfile, settings.tls_keyfile
    if bool(cert) != bool(key):
        raise SystemExit("--certfile and --keyfile (CRISIS_TLS_CERTFILE, CRISIS_TLS_KEYFILE) go together")
    for flag, path in (("--certfile", cert), ("--keyfile", key)):
        if path and not os.access(path, os.R_OK):
            raise SystemExit(f"{flag} {path}: not a readable file")


def uvicorn_tls(settings: Settings) -> dict[str, str]:
    """Keyword arguments for ``uvicorn.run``: the certificate and key files, or none (plain HTTP)."""
    if not settings.tls_certfile:
        return {}
    return {"ssl_certfile": str(settings.tls_certfile), "ssl_keyfile": str(settings.tls_keyfile)}


def served_url(settings: Settings) -> str:
    """Where this server answers, for people: ``https://HOST:PORT/`` with TLS settings, else ``http://``;
    an IPv6 host in brackets (RFC 3986 §3.2.2)."""
    scheme = "https" if settings.tls_certfile else "http"
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    return f"{scheme}://{host}:{settings.port}/"
