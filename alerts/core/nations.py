"""Country codes: ISO 3166-1 alpha-2 and alpha-3 as assigned (from ``pycountry``), plus Kosovo.

Kosovo has no ISO 3166-1 code; ``XK`` (alpha-2) and ``XKX`` (alpha-3) are
user-assigned codes (ISO 3166-1 reserves XA-XZ / XAA-XZZ for that use), the
ones the European Commission, NATO and Natural Earth use, and the ones this
project uses. Domain core: no Redis, no Dash.
"""
from __future__ import annotations

import re
from functools import cache

import pycountry

KOSOVO = "XK"
_KOSOVO_ALPHA3 = "XKX"
#: An ISO 3166-2 subdivision code, e.g. ``RS-00`` or ``HR-21``.
ISO_3166_2 = re.compile(r"^[A-Z]{2}-[A-Z0-9]{1,3}$")


@cache
def _alpha2_codes() -> frozenset[str]:
    return frozenset(c.alpha_2 for c in pycountry.countries) | {KOSOVO}


@cache
def _alpha3_to_alpha2() -> dict[str, str]:
    return {c.alpha_3: c.alpha_2 for c in pycountry.countries} | {_KOSOVO_ALPHA3: KOSOVO}


def is_alpha2(code: str) -> bool:
    """Whether ``code`` is an assigned ISO 3166-1 alpha-2 code (or ``XK``), upper case."""
    return code in _alpha2_codes()


def to_alpha2(code: str) -> str | None:
    """The alpha-2 code of an alpha-2 or alpha-3 code (any case, ``XK``/``XKX`` for Kosovo); None if unknown."""
    code = code.strip().upper()
    if len(code) == 2:
        return code if is_alpha2(code) else None
    return _alpha3_to_alpha2().get(code)


def to_alpha3(code: str) -> str:
    """The alpha-3 code (NATO STANAG 1059 trigraph) of an alpha-2 code; ``KeyError`` if unknown."""
    if code == KOSOVO:
        return _KOSOVO_ALPHA3
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        raise KeyError(code)
    return country.alpha_3
