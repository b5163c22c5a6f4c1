"""The feed registry: which producer a message comes from, and what that producer's messages default to.

A TOML file (``CRISIS_FEEDS``; the example is ``docs/feeds.example.toml``)
with one ``[[feeds]]`` table per producer:

.. code-block:: toml

    [[feeds]]
    name = "rs-sector-hq"                  # unique; shown in the Unrouted view and the audit trail
    nation = "RS"                          # the reporting nation of its messages (ISO 3166-1 alpha-2, XK Kosovo)
    releasable_to = ["RS", "BA", "HR"]     # releasability of its messages that carry none ("ALL": every nation)
    classification = "RESTRICTED"          # optional: of its unmarked messages (default: the lowest level)
    tlp = "AMBER"                          # optional: TLP 2.0 label of its unmarked messages
    cap_sender = ["alerts@mup.gov.rs", "*.vs.rs"]   # CAP <sender>: exact, or *.domain (the domain and subdomains)
    cot_uid_prefix = ["RS-"]               # CoT event uid starts with
    cot_callsign_prefix = ["SRB "]         # CoT contact callsign starts with
    source = ["RS-SECTOR"]                 # our JSON "source", exact
    outbound = true                        # optional: TAK clients on its listener receive the centre's picture
    relay = true                           # optional: its listener carries other feeds' traffic (a TAK server)
    relayed_by = "tak-server"              # optional: a relay feed that also carries this feed's devices
    clearance = "RESTRICTED"               # optional: the highest level that picture carries (default: the lowest)

Each recogniser is a string or a list of strings; a feed needs at least one.

``outbound`` (default false) lets the TAK clients connected to the CoT
listener of this feed receive, on the same connection, the incidents and
assets the feed may see: released to its ``nation``, up to its ``clearance``
(``alerts.actions.cot_picture.feed_viewer``). Anyone who can reach a plain
TCP port gets that picture, so turn it on for a TLS-only listener unless the
network itself is closed.
``relay`` (default false) is for a listener or bridge whose traffic comes
from many producers, e.g. a TAK server relaying several nations' devices:
its messages are recognised by content (below) and only the unrecognised
ones take this feed's defaults. A message that arrived on the listener of a
feed that is **not** a relay is that feed's, whatever its content says: a
device on the MK listener cannot speak for BA by choosing a ``BA-`` uid
(``FeedRegistry.sender``).
``relayed_by`` (default none) names a ``relay`` feed that carries this
feed's devices too (they connect to this listener and to that TAK server):
a CoT uid is then one identity on both ways in (``FeedRegistry.identity_scope``,
``alerts.core.identity``), so the same emergency arriving directly and
relayed is one alert and the cancel arriving either way closes it. Its
devices can then cancel what the relay carries, as the relay's own devices
already can; without it each way in is a scope of its own.

A message is recognised by what its format carries, the most specific rule
winning: a CAP message by its ``sender`` (an exact sender before the longest
matching domain); a CoT event by its uid (the longest prefix), else its
callsign (the longest prefix); our JSON and GeoJSON by ``source``. Two feeds
may not claim the same sender, domain, prefix or source: the file is refused.

``FeedRegistry.load`` validates the whole file at start-up; any problem is a
``FeedFileError`` naming the file and the field, and ``serve`` stops.

Domain core: no Redis, no Dash.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from alerts.core.markings import RELEASABLE_TO_ALL, Classifications, MarkingError, Tlp, parse_tlp
from alerts.core.nations import is_alpha2

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_DOMAIN = re.compile(r"^\*\.(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


class FeedFileError(ValueError):
    """The feed registry file is missing or wrong; the message names the file and the field."""


def _strings(value: object) -> object:
    return [value] if isinstance(value, str) else value


class Feed(BaseModel):
    """One registered producer (see the module docstring for each field)."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    name: str
    nation: str
    releasable_to: list[str] = Field(min_length=1)
    classification: str | None = None
    tlp: Tlp | None = None
    cap_sender: list[str] = Field(default_factory=list)
    cot_uid_prefix: list[str] = Field(default_factory=list)
    cot_callsign_prefix: list[str] = Field(default_factory=list)
    source: list[str] = Field(default_factory=list)
    outbound: bool = False
    clearance: str | None = None
    relay: bool = False
    relayed_by: str | None = None

    @field_validator("cap_sender", "cot_uid_prefix", "cot_callsign_prefix", "source", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return _strings(value)

    @field_validator("cap_sender", "cot_uid_prefix", "cot_callsign_prefix", "source")
    @classmethod
    def _not_blank(cls, values: list[str]) -> list[str]:
        if any(not v.strip() for v in values):
            raise ValueError("an empty string would match every message")
        return values

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError("1-64 letters, digits, '.', '_', '-'")
        return value

    @field_validator("nation")
    @classmethod
    def _nation(cls, value: str) -> str:
        if not is_alpha2(value.upper()):
            raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 code (Kosovo: XK)")
        return value.upper()

    @field_validator("releasable_to", mode="before")
    @classmethod
    def _releasable(cls, value: object) -> object:
        values = _strings(value)
        if not isinstance(values, list):
            return values
        codes = [str(v).strip().upper() for v in values]
        bad = [c for c in codes if c != RELEASABLE_TO_ALL and not is_alpha2(c)]
        if bad:
            raise ValueError(f"{bad} are not ISO 3166-1 alpha-2 codes or 'ALL'")
        return list(dict.fromkeys(codes))

    @field_validator("tlp", mode="before")
    @classmethod
    def _tlp(cls, value: object) -> object:
        if isinstance(value, str):
            try:
                return parse_tlp(value)
            except MarkingError as exc:
                raise ValueError(str(exc)) from None
        return value

    @field_validator("cap_sender")
    @classmethod
    def _senders(cls, values: list[str]) -> list[str]:
        for value in values:
            if value.startswith("*") and not _DOMAIN.match(value.lower()):
                raise ValueError(f"{value!r}: a domain rule is '*.' and a domain name, e.g. '*.mup.gov.rs'")
        return values

    @model_validator(mode="after")
    def _recognisable(self) -> "Feed":
        if not (self.cap_sender or self.cot_uid_prefix or self.cot_callsign_prefix or self.source):
            raise ValueError("a feed needs at least one of cap_sender, cot_uid_prefix, cot_callsign_prefix, source")
        if self.nation not in self.releasable_to and RELEASABLE_TO_ALL not in self.releasable_to:
            object.__setattr__(self, "releasable_to", [self.nation, *self.releasable_to])
        return self

    @property
    def releasability(self) -> tuple[str, ...]:
        """Its default releasability, ``("ALL",)`` when it names ALL."""
        return (RELEASABLE_TO_ALL,) if RELEASABLE_TO_ALL in self.releasable_to else tuple(self.releasable_to)


@dataclass(frozen=True)
class Origin:
    """What a message says about who sent it (``alerts.core.routing.origin_of`` reads it).

    ``format``: ``cap``, ``cot`` or ``json`` (our JSON and GeoJSON).
    """

    format: str
    cap_sender: str = ""
    cot_uid: str = ""
    cot_callsign: str = ""
    source: str = ""

    def describe(self) -> str:
        """One line for people: ``CAP sender alerts@mup.gov.rs``, ``CoT uid ANDROID-1 (callsign Alpha)`` ..."""
        if self.format == "cap":
            return f"CAP sender {self.cap_sender}"
        if self.format == "cot":
            return f"CoT uid {self.cot_uid}" + (f" (callsign {self.cot_callsign})" if self.cot_callsign else "")
        return f"source {self.source}"


def _domain_match(sender: str, rule: str) -> bool:
    """Whether a CAP sender (an address, a host or a URI) is in the ``*.domain`` of ``rule``."""
    host = sender.strip().lower()
    if "@" in host:
        host = host.rsplit("@", 1)[1]
    host = re.sub(r"^[a-z][a-z0-9+.-]*://", "", host).split("/", 1)[0].split(":", 1)[0].rstrip(".")
    domain = rule[2:].lower()
    return host == domain or host.endswith("." + domain)


class FeedRegistry:
    """Every registered feed, and which one a message comes from (see the module docstring)."""

    def __init__(self, feeds: list[Feed] | None = None):
        self.feeds = list(feeds or [])
        self._check_unique()
        self._check_relays()

    def _check_unique(self) -> None:
        seen: dict[tuple[str, str], str] = {}
        for feed in self.feeds:
            if ("name", feed.name) in seen:
                raise FeedFileError(f"name {feed.name!r} is used by two feeds")
            seen[("name", feed.name)] = feed.name
            rules = [("cap_sender", s.lower()) for s in feed.cap_sender] + \
                [("cot_uid_prefix", p) for p in feed.cot_uid_prefix] + \
                [("cot_callsign_prefix", p) for p in feed.cot_callsign_prefix] + [("source", s) for s in feed.source]
            for rule in rules:
                if rule in seen and seen[rule] != feed.name:
                    raise FeedFileError(f"{rule[0]} {rule[1]!r} is claimed by feeds {seen[rule]!r} and {feed.name!r}")
                seen[rule] = feed.name

    def _check_relays(self) -> None:
        for feed in self.feeds:
            if feed.relayed_by is None:
                continue
            relay = next((f for f in self.feeds if f.name == feed.relayed_by), None)
            if relay is None or not relay.relay or feed.relay:
                problem = ("is itself a relay" if feed.relay else
                           f"names {feed.relayed_by!r}, " + ("no feed" if relay is None else "a feed that is not a relay"))
                raise FeedFileError(f"feed {feed.name!r}: relayed_by {problem}")

    def __len__(self) -> int:
        return len(self.feeds)

    def identity_scope(self, name: str | None) -> str | None:
        """The scope of CoT identities (``alerts.core.identity.identity_of``) of what arrived on, or was routed to,
        the feed ``name``: its ``relayed_by`` relay when it names one, else ``name`` itself (None: None)."""
        feed = self.get(name) if name else None
        return feed.relayed_by if feed is not None and feed.relayed_by else name

    def get(self, name: str) -> Feed | None:
        """The feed called ``name``, or None."""
        return next((f for f in self.feeds if f.name == name), None)

    def match(self, origin: Origin) -> Feed | None:
        """The feed ``origin`` comes from, by the most specific rule of its format; None if unregistered."""
        if origin.format == "cap":
            sender = origin.cap_sender.strip().lower()
            exact = [f for f in self.feeds if sender in (s.lower() for s in f.cap_sender if not s.startswith("*"))]
            if exact:
                return exact[0]
            return _longest(sender, [(rule, f) for f in self.feeds for rule in f.cap_sender
                                     if rule.startswith("*") and _domain_match(sender, rule)])
        if origin.format == "cot":
            by_uid = _longest(origin.cot_uid, [(p, f) for f in self.feeds for p in f.cot_uid_prefix
                                               if origin.cot_uid.startswith(p)])
            if by_uid is not None or not origin.cot_callsign:
                return by_uid
            return _longest(origin.cot_callsign, [(p, f) for f in self.feeds for p in f.cot_callsign_prefix
                                                  if origin.cot_callsign.startswith(p)])
        return next((f for f in self.feeds if origin.source in f.source), None)

    def sender(self, origin: Origin, arrived_on: str | None = None) -> Feed | None:
        """The feed a message speaks for: the feed of the listener it ``arrived_on`` (an inbox entry's ``feed``
        tag) unless that feed is a ``relay``; else (a relay, or no listener) the feed its content matches
        (``match``), a relay's own defaults when it matches none. None: unregistered, or it arrived on a
        listener whose feed is not registered (any more): then what the content claims is not trusted either.

        This is the trust rule of ``alerts.core.routing`` and of asset position reports: a listener's feed is
        authenticated by how the message arrived (its port, its client certificate), the content only by
        what it claims.
        """
        if not arrived_on:
            return self.match(origin)
        listener = self.get(arrived_on)
        if listener is None:
            return None  # a listener whose feed is not (or no longer) registered vouches for nothing
        if listener.relay:
            return self.match(origin) or listener
        return listener

    def check(self, scheme: Classifications) -> None:
        """Raise ``FeedFileError`` for a feed classification or clearance that is not one of ``scheme``'s levels."""
        for feed in self.feeds:
            for field in ("classification", "clearance"):
                if getattr(feed, field) is not None:
                    try:
                        scheme.level(getattr(feed, field))
                    except MarkingError as exc:
                        raise FeedFileError(f"feed {feed.name!r}: {field}: {exc}") from None

    @classmethod
    def parse(cls, text: str, source: str, scheme: Classifications | None = None) -> "FeedRegistry":
        """A registry from TOML text; ``source`` names the file in errors. Raises ``FeedFileError``."""
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise FeedFileError(f"{source}: not valid TOML: {exc}") from None
        unknown = sorted(set(data) - {"feeds"})
        if unknown:
            raise FeedFileError(f"{source}: {unknown[0]}: unknown table or key (only [[feeds]] tables)")
        items = data.get("feeds", [])
        if not isinstance(items, list):
            raise FeedFileError(f"{source}: feeds: must be [[feeds]] tables")
        feeds: list[Feed] = []
        for i, item in enumerate(items):
            try:
                feeds.append(Feed.model_validate(item))
            except ValidationError as exc:
                where = item.get("name", i) if isinstance(item, dict) else i
                problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(table)'}: {e['msg']}"
                                     for e in exc.errors())
                raise FeedFileError(f"{source}: feeds[{where!r}]: {problems}") from None
        try:
            registry = cls(feeds)
            registry.check(scheme or Classifications())
        except FeedFileError as exc:
            raise FeedFileError(f"{source}: {exc}") from None
        return registry

    @classmethod
    def load(cls, path: Path, scheme: Classifications | None = None) -> "FeedRegistry":
        """Read and validate the registry file at ``path``; raises ``FeedFileError``."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise FeedFileError(f"{path.name}: cannot read the feed registry: {exc}") from None
        return cls.parse(text, path.name, scheme)


def _longest(value: str, candidates: list[tuple[str, Feed]]) -> Feed | None:
    return max(candidates, key=lambda c: len(c[0]))[1] if candidates else None
