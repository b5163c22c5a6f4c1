"""Security markings: classification levels, caveats, TLP 2.0 and "REL TO" releasability.

- **Classification**: a deployment-configured ordered list of levels, lowest
  first (``Classifications``; default ``UNCLASSIFIED`` < ``RESTRICTED`` <
  ``CONFIDENTIAL`` < ``SECRET``, the NATO levels of C-M(2002)49 without COSMIC
  TOP SECRET). A user's *clearance* is one level; an alert above it is as
  invisible to that user as an unreleased one.
- **Caveats**: short handling labels (``FOUO``, ``EXERCISE ONLY``); shown with
  the classification, never used to decide who sees what.
- **TLP 2.0** (FIRST, Traffic Light Protocol version 2.0, 2022): ``CLEAR`` <
  ``GREEN`` < ``AMBER`` < ``AMBER+STRICT`` < ``RED``; labels are never
  translated. TLP 1.0 ``WHITE`` reads as ``CLEAR``.
- **REL TO**: NATO's releasability form ``REL TO BA, HR`` (also ``Releasable
  to ...``), listing ISO 3166-1 alpha-2 or alpha-3 codes (``XK``/``XKX``
  Kosovo; ``alerts.core.nations``).

A ``Marking`` is the four together; ``most_restrictive`` combines the
markings of everything on a page or in an export into the one that covers
it (highest classification, every caveat, highest TLP, the nations every
item is released to). ``Marking.line`` writes the banner form,
``CONFIDENTIAL//FOUO//REL TO BA, HR TLP:AMBER``.

Domain core: no Redis, no Dash.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from alerts.core.nations import to_alpha2

RELEASABLE_TO_ALL = "ALL"
DEFAULT_LEVELS = ("UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL", "SECRET")
#: Levels in use by NATO, the EU and member nations; found in a message but missing from the
#: deployment's list, a marking is refused rather than read as a lower level it contains
#: (``TOP SECRET`` is not ``SECRET``).
WELL_KNOWN_LEVELS = (
    "UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL", "SECRET", "TOP SECRET", "COSMIC TOP SECRET",
    "OFFICIAL", "OFFICIAL-SENSITIVE", "LIMITE", "INTERNAL",
)
_ORGANISATION_PREFIX = re.compile(r"^(?:NATO|EU|COSMIC(?=\s+TOP))\s+")
MAX_CAVEATS = 10
MAX_CAVEAT_LENGTH = 60
_CAVEAT = re.compile(r"^[A-Z0-9][A-Z0-9 ./+()-]*$")


class MarkingError(ValueError):
    """A marking that cannot be honoured (an unknown level, nation code or TLP label); the message says which."""


class Tlp(StrEnum):
    """TLP 2.0 labels (FIRST), least restrictive first."""

    CLEAR = "CLEAR"
    GREEN = "GREEN"
    AMBER = "AMBER"
    AMBER_STRICT = "AMBER+STRICT"
    RED = "RED"

    @property
    def rank(self) -> int:
        """0 for CLEAR up to 4 for RED."""
        return list(Tlp).index(self)


def parse_tlp(text: str) -> Tlp:
    """A TLP label from ``TLP:AMBER``, ``amber``, ``TLP: AMBER+STRICT`` ...; ``WHITE`` (TLP 1.0) is CLEAR.

    Raises ``MarkingError`` for anything else.
    """
    label = re.sub(r"^TLP\s*:\s*", "", text.strip().upper())
    label = re.sub(r"\s*\+\s*", "+", label)
    if label == "WHITE":
        return Tlp.CLEAR
    try:
        return Tlp(label)
    except ValueError:
        raise MarkingError(f"TLP label {text.strip()[:40]!r} is not one of {', '.join(Tlp)}") from None


@dataclass(frozen=True)
class Classifications:
    """The deployment's classification levels, lowest first (``CRISIS_CLASSIFICATIONS``)."""

    levels: tuple[str, ...] = DEFAULT_LEVELS

    def __post_init__(self) -> None:
        if not self.levels:
            raise MarkingError("the classification list is empty")
        if len(set(self.levels)) != len(self.levels):
            raise MarkingError("the classification list repeats a level")
        for level in self.levels:
            if level != level.strip().upper() or not level:
                raise MarkingError(f"classification {level!r}: levels are upper case, without surrounding spaces")

    @classmethod
    def parse(cls, text: str) -> "Classifications":
        """From ``"UNCLASSIFIED,RESTRICTED,CONFIDENTIAL,SECRET"`` (lowest first); ``MarkingError`` if unusable."""
        return cls(tuple(re.sub(r"\s+", " ", part.strip().upper()) for part in text.split(",") if part.strip()))

    @property
    def lowest(self) -> str:
        """The lowest level (the default clearance and the marking of unmarked content)."""
        return self.levels[0]

    def level(self, text: str) -> str:
        """The level ``text`` names (any case; ``NATO``/``EU`` prefix ignored); ``MarkingError`` if not a level here."""
        name = _ORGANISATION_PREFIX.sub("", re.sub(r"\s+", " ", text.strip().upper()))
        if name in self.levels:
            return name
        raise MarkingError(f"classification {text.strip()[:60]!r} is not one of this deployment's levels "
                           f"({', '.join(self.levels)})")

    def rank(self, level: str) -> int:
        """0 for the lowest level; ``MarkingError`` for a level not in the list."""
        return self.levels.index(self.level(level))

    def cleared(self, clearance: str) -> frozenset[str]:
        """The levels a holder of ``clearance`` may see: it and every lower one."""
        return frozenset(self.levels[: self.rank(clearance) + 1])

    def highest(self, levels: Iterable[str]) -> str:
        """The highest of ``levels`` (the lowest level when there are none)."""
        return max(levels, key=self.rank, default=self.lowest)

    def find(self, text: str) -> str | None:
        """The classification in free text (e.g. a CAP ``restriction``), or None.

        The longest well-known level wins (``TOP SECRET`` is never read as
        ``SECRET``); a well-known level that is not one of this deployment's
        raises ``MarkingError``. In a marking line (one with ``//``, a ``REL TO``
        list or a ``TLP:`` label) a level counts in any case (``secret//rel to
        ba``); elsewhere only in upper case, lower-case words ("restricted to
        ...") being prose.
        """
        known = sorted({*self.levels, *WELL_KNOWN_LEVELS}, key=len, reverse=True)
        flags = re.IGNORECASE if _MARKING_LINE.search(text) else 0
        pattern = r"(?<![A-Za-z-])(?:(?:NATO|EU) )?(" + "|".join(re.escape(k) for k in known) + r")(?![A-Za-z-])"
        match = re.search(pattern, re.sub(r"\s+", " ", text), flags)
        return self.level(match.group(1).upper()) if match else None


def parse_nations(text: str) -> list[str]:
    """The nations of a REL TO list: ``"BA, HR, SRB"`` -> ``["BA", "HR", "RS"]`` (alpha-2, first-seen order).

    Codes are ISO 3166-1 alpha-2 or alpha-3 (``XK``/``XKX`` Kosovo) or ``ALL``,
    separated by commas, semicolons, slashes, full stops, spaces or "and". Raises ``MarkingError``
    naming every code that is not a country (``NATO``, ``EU``, ``FVEY``: an admin decides who that is).
    """
    tokens = [t for t in re.split(r"[\s,;/.]+|\band\b", text.strip(), flags=re.IGNORECASE) if t]
    nations: list[str] = []
    unknown: list[str] = []
    for token in tokens:
        code = RELEASABLE_TO_ALL if token.upper() == RELEASABLE_TO_ALL else to_alpha2(token)
        if code is None:
            unknown.append(token[:20])
        elif code not in nations:
            nations.append(code)
    if unknown:
        raise MarkingError(f"REL TO names {', '.join(repr(u) for u in unknown)}: not ISO 3166-1 country codes")
    if not nations:
        raise MarkingError("REL TO names no nation")
    return nations


#: ``REL TO`` / ``Releasable to``, then its list: up to the next ``//`` (the NATO marking separator), ``TLP:``
#: label or line end.
_REL_TO = re.compile(r"\bREL(?:EASABLE)?\s+TO\b\s*:?\s*(?P<codes>.*?)\s*(?=//|\bTLP\s*:|$)",
                     re.IGNORECASE | re.MULTILINE)
_MARKING_LINE = re.compile(r"//|\bREL(?:EASABLE)?\s+TO\b|\bTLP\s*:", re.IGNORECASE)
_TLP = re.compile(r"\bTLP\s*:\s*(?P<label>AMBER\s*\+\s*STRICT|[A-Za-z]+)", re.IGNORECASE)


def find_rel_to(text: str) -> list[str] | None:
    """The nations of the first ``REL TO`` / ``Releasable to`` list in free text, or None when there is none.

    The list runs to the next ``//``, ``TLP:`` label or line end, and every word of it must be a country
    code: ``MarkingError`` (``parse_nations``) for ``REL TO BA, HR, NATO``, never a shorter list.
    """
    match = _REL_TO.search(text)
    return parse_nations(match.group("codes")) if match else None


def find_tlp(text: str) -> Tlp | None:
    """The ``TLP:<label>`` written in free text, or None; ``MarkingError`` for an unknown label."""
    match = _TLP.search(text)
    return parse_tlp(match.group("label")) if match else None


def caveats_of(values: Iterable[str]) -> tuple[str, ...]:
    """Caveats normalised: upper case, single spaces, no repeats, sorted; ``MarkingError`` if unusable."""
    caveats: set[str] = set()
    for value in values:
        caveat = re.sub(r"\s+", " ", str(value).strip().upper())
        if not caveat:
            continue
        if len(caveat) > MAX_CAVEAT_LENGTH or not _CAVEAT.match(caveat):
            raise MarkingError(f"caveat {caveat[:MAX_CAVEAT_LENGTH]!r}: at most {MAX_CAVEAT_LENGTH} letters, "
                               "digits, spaces and . / + ( ) -")
        caveats.add(caveat)
    if len(caveats) > MAX_CAVEATS:
        raise MarkingError(f"at most {MAX_CAVEATS} caveats")
    return tuple(sorted(caveats))


@dataclass(frozen=True)
class Marking:
    """Classification, caveats, TLP and releasability of one item, or of a page or export covering several.

    ``releasable_to``: alpha-2 codes, ``("ALL",)`` for every nation, None when
    not decided (unrouted content).
    """

    classification: str
    caveats: tuple[str, ...] = ()
    tlp: Tlp | None = None
    releasable_to: tuple[str, ...] | None = (RELEASABLE_TO_ALL,)

    def line(self) -> str:
        """The banner form: ``CONFIDENTIAL//FOUO//REL TO BA, HR TLP:AMBER`` (parts left out when empty)."""
        parts = [self.classification, *self.caveats]
        if self.releasable_to is not None and RELEASABLE_TO_ALL not in self.releasable_to:
            parts.append("REL TO " + ", ".join(self.releasable_to))
        text = "//".join(parts)
        return f"{text} TLP:{self.tlp.value}" if self.tlp is not None else text

    def as_dict(self) -> dict:
        """JSON form: ``classification``, ``caveats`` (list), ``tlp`` (or null), ``releasable_to`` (list or null), ``line``."""
        return {"classification": self.classification, "caveats": list(self.caveats),
                "tlp": self.tlp.value if self.tlp else None,
                "releasable_to": list(self.releasable_to) if self.releasable_to is not None else None,
                "line": self.line()}


def most_restrictive(markings: Iterable[Marking], scheme: Classifications) -> Marking:
    """One marking covering all of ``markings``: the highest classification and TLP, every caveat,
    the nations all are released to (``ALL`` counts as every nation). No markings: the lowest level."""
    items = list(markings)
    if not items:
        return Marking(scheme.lowest)
    tlps = [m.tlp for m in items if m.tlp is not None]
    nations: list[str] | None = None
    for item in items:
        if item.releasable_to is None or RELEASABLE_TO_ALL in item.releasable_to:
            continue
        nations = list(item.releasable_to) if nations is None else [n for n in nations if n in item.releasable_to]
    return Marking(
        classification=scheme.highest(m.classification for m in items),
        caveats=tuple(sorted({c for m in items for c in m.caveats})),
        tlp=max(tlps, key=lambda t: t.rank) if tlps else None,
        releasable_to=tuple(nations) if nations is not None else (RELEASABLE_TO_ALL,),
    )
