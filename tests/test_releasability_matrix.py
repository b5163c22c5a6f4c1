"""The releasability matrix of issue 12: users of three nations and two clearances (plus leadership, admins, an
auditor and a responder) x alerts of every releasability, classification and TLP x every read path.

Alerts reach the centre as our JSON, CAP 1.2 and CoT, routed by what they say (``releasable_to``, CAP
``REL TO``, CoT ``releasableTo``) or by a registered feed's default (a feeds file written to the module's tmp
dir), or held unrouted. Each carries a unique marker (``QX01Z`` ...) in its id and its title or description,
so a leak shows anywhere in a response body. A user may see an alert when it is released to the user's nation
(or ALL) and its classification is within the user's clearance; unrouted alerts are seen by nobody (admins list
them at ``/api/v1/unrouted`` and ``/sharing``, within their clearance). Assets released to everyone are tasked
to restricted alerts: their ``assigned_to`` names an alert only for who may see it.

For every user and path the set of markers a response holds must EQUAL the expected set: nothing forbidden,
and everything allowed (a path that shows nothing cannot pass). Every export's marking must be the most
restrictive over what that user got.

Module-scoped: the matrix is ingested once into one in-process server (``serve_in_process``); the browser half
(``tests/browser/test_releasability_matrix.py``) reuses the data and expectations defined here.
"""
from __future__ import annotations

import csv
import io
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import httpx
import pytest
from lxml import etree

from alerts.core.markings import (
    DEFAULT_LEVELS,
    RELEASABLE_TO_ALL,
    Classifications,
    Marking,
    Tlp,
    most_restrictive,
)
from tests import conftest
from tests.alerts.formats.test_cap import cap_xml, info_xml
from tests.alerts.formats.test_cot import cot_event
from tests.conftest import AppServer, add_user, make_asset, serve_in_process, wait_for

SCHEME = Classifications(DEFAULT_LEVELS)
U, R, C, S = DEFAULT_LEVELS
NATIONS = ("RS", "HR", "MK")
MARKER = re.compile(r"QX(\d\d)Z", re.IGNORECASE)
ALL_NATIONS = (RELEASABLE_TO_ALL,)

FEEDS_TOML = """
[[feeds]]
name = "rs-mup"
nation = "RS"
releasable_to = ["RS", "HR"]
classification = "RESTRICTED"
tlp = "AMBER"
cap_sender = "*.mup.test"
source = "RS-MUP"

[[feeds]]
name = "mk-tak"
nation = "MK"
releasable_to = ["MK"]
classification = "CONFIDENTIAL"
cot_uid_prefix = "MKD-"

[[feeds]]
name = "hr-dz"
nation = "HR"
releasable_to = ["ALL"]
tlp = "GREEN"
cap_sender = "alerts@dz.test"
"""


# --- the matrix ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Spec:
    """One alert of the matrix: its marker number, how it is sent, and the routing the centre must give it."""

    n: int
    how: str                                  # json / cap / cot, and how it is routed (for the report)
    raw: str                                  # the payload as sent
    releasable_to: tuple[str, ...] | None     # None: unrouted
    classification: str
    caveats: tuple[str, ...] = ()
    tlp: str | None = None

    @property
    def marker(self) -> str:
        return f"QX{self.n:02d}Z"

    @property
    def marking(self) -> Marking:
        return Marking(self.classification, self.caveats, Tlp(self.tlp) if self.tlp else None,
                       self.releasable_to)

    def visible_to(self, nation: str, clearance: str) -> bool:
        if self.releasable_to is None:
            return False
        released = RELEASABLE_TO_ALL in self.releasable_to or nation in self.releasable_to
        return released and SCHEME.rank(self.classification) <= SCHEME.rank(clearance)


@dataclass(frozen=True)
class Person:
    name: str
    role: str
    nation: str
    clearance: str


PEOPLE = [Person(f"do-{n.lower()}-{c[0].lower()}", "duty_officer", n, c) for n in NATIONS for c in (U, C)] + [
    Person("lead-hr-c", "leadership", "HR", C),
    Person("resp-mk-c", "responder", "MK", C),
    Person("admin-rs-s", "admin", "RS", S),
    Person("admin-mk-u", "admin", "MK", U),
    Person("aud-hr-u", "auditor", "HR", U),
]
BY_NAME = {p.name: p for p in PEOPLE}
EXPORTERS = [p for p in PEOPLE if p.role in ("duty_officer", "leadership", "admin")]
ADMINS = [p for p in PEOPLE if p.role == "admin"]
TLPS = (None, "CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED")
#: Where the JSON alerts are, in turn (Belgrade, Zagreb, Skopje, Novi Sad): every one placed, drawn, exported.
PLACES = ((44.80, 20.46), (45.81, 15.98), (41.99, 21.43), (45.25, 19.84))


def _json(n: int, now: datetime, **fields) -> str:
    marker = f"QX{n:02d}Z"
    alert = {"id": f"mx-{marker.lower()}", "type": "mass_casualty", "severity": "high",
             "title": f"{marker} casualties reported", "description": f"Report {marker}.",
             "location": dict(zip(("lat", "lon"), PLACES[n % len(PLACES)])),
             "reported_at": (now - timedelta(minutes=n)).isoformat(), "exercise": False, **fields}
    return json.dumps({k: v for k, v in alert.items() if v is not None})


def _cap(n: int, now: datetime, sender: str, scope: str, restriction: str | None = None) -> str:
    marker = f"QX{n:02d}Z"
    return cap_xml(identifier=f"mx-{marker}-cap", sender=sender, scope=scope, restriction=restriction,
                   sent=(now - timedelta(minutes=n)).isoformat(timespec="seconds"),
                   infos=[info_xml(severity="Severe", headline=f"{marker} flooding",
                                   description=f"Report {marker}.")])


def _cot(n: int, now: datetime, uid_prefix: str, callsign: str, markings: str = "") -> str:
    marker = f"QX{n:02d}Z"
    time = (now - timedelta(minutes=n)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return cot_event(uid=f"{uid_prefix}{marker}-9-1-1", callsign=callsign, time=time, lat="44.01", lon="20.91",
                     remarks=f"Emergency {marker}", markings=markings)


def build_matrix(now: datetime) -> list[Spec]:
    """The alerts: a JSON grid (every level x one nation, several, ALL, unrouted; TLPs in turn), then CAP and
    CoT messages routed by what they say, by a registered feed's default, or not at all."""
    specs: list[Spec] = []
    n = 0
    for i, level in enumerate(DEFAULT_LEVELS):
        one = NATIONS[i % 3]
        several = tuple(x for x in NATIONS if x != one)
        caveats = ("FOUO",) if level in (C, S) else ()
        unrouted_source = ("ALL", "all", "RS", "ZZ-PATROL")[i]  # `source` is never a releasability
        for nations, source in (((one,), one), (several, several[0]), (ALL_NATIONS, "HR"), (None, unrouted_source)):
            n += 1
            tlp = TLPS[n % len(TLPS)]
            specs.append(Spec(n, f"json {'/'.join(nations) if nations else 'unrouted ' + source}", _json(
                n, now, source=source, releasable_to=list(nations) if nations else None, classification=level,
                caveats=list(caveats) or None, tlp=tlp), nations, level, caveats, tlp))
    more = [
        # a registered JSON source without releasable_to: the feed's default and markings
        ("json feed default", _json(17, now, source="RS-MUP"), ("RS", "HR"), R, (), "AMBER"),
        # a registered JSON source naming others: the feed's nation is added
        ("json feed + explicit", _json(18, now, source="RS-MUP", releasable_to=["MK"], classification=U,
                                       tlp="CLEAR"), ("RS", "MK"), U, (), "CLEAR"),
        ("cap feed REL TO", _cap(19, now, "alerts@ops.mup.test", "Restricted", "REL TO MKD"), ("RS", "MK"), R, (),
         "AMBER"),
        ("cap feed default, SECRET", _cap(20, now, "ops@mup.test", "Restricted", "NATO SECRET"), ("RS", "HR"), S,
         (), "AMBER"),
        ("cap feed default, TLP:RED", _cap(21, now, "ops@mup.test", "Restricted", "CONFIDENTIAL TLP:RED"),
         ("RS", "HR"), C, (), "RED"),
        ("cap feed Public", _cap(22, now, "alerts@dz.test", "Public"), ALL_NATIONS, U, (), "GREEN"),
        ("cap unregistered REL TO", _cap(23, now, "ops@example.org", "Restricted",
                                         "NATO CONFIDENTIAL // REL TO SRB, HRV // TLP:AMBER+STRICT"), ("RS", "HR"), C, (),
         "AMBER+STRICT"),
        ("cap unregistered Releasable to", _cap(24, now, "ops@example.org", "Restricted", "Releasable to MK, HR"),
         ("MK", "HR"), U, (), None),
        ("cap REL TO NATO, registered: its own nation only", _cap(25, now, "alerts@ops.mup.test", "Restricted",
                                                                  "REL TO NATO"), ("RS",), R, (), "AMBER"),
        ("cap unregistered, no REL TO: unrouted", _cap(26, now, "ops@example.org", "Restricted", "RESTRICTED"),
         None, R, (), None),
        ("cot feed uid prefix", _cot(27, now, "MKD-", "QX27Z"), ("MK",), C, (), None),
        ("cot unregistered, callsign All: unrouted", _cot(28, now, "ANDROID-", "All"), None, U, (), None),
        ("cot releasableTo", _cot(29, now, "ANDROID-", "QX29Z", "access='RESTRICTED' releasableTo='SRB MKD'"),
         ("RS", "MK"), R, (), None),
        ("cot releasableTo + caveat", _cot(30, now, "ANDROID-", "QX30Z",
                                           "access='UNCLASSIFIED' caveat='FOUO' releasableTo='HRV'"), ("HR",), U,
         ("FOUO",), None),
    ]
    for number, (how, raw, nations, level, caveats, tlp) in enumerate(more, start=17):
        specs.append(Spec(number, how, raw, nations, level, caveats, tlp))
    return specs


def markers(text: str) -> set[str]:
    """Every matrix marker in ``text`` (any case)."""
    return {f"QX{m}Z" for m in MARKER.findall(text)}


def expected(person: Person, specs: list[Spec]) -> set[str]:
    """The markers of the alerts ``person`` may see."""
    return {s.marker for s in specs if s.visible_to(person.nation, person.clearance)}


# --- the centre: one server, the matrix ingested once, some work done so the audit trail has entries -----------------

SENTINEL_ALERT = "mx-sentinel-end"
SENTINEL_ASSET = "qa-sentinel-end"


@dataclass(frozen=True)
class Task:
    asset: str
    alert: int           # the marker number of the alert it is tasked to
    by: str | None       # who assigned it over the API (None: written directly, the asset still ready)


#: Assets (all medical teams, which suit mass casualties and natural disasters) and what they are tasked to.
ASSETS = {  # id: (nation, releasable_to)
    "qa-a1": ("HR", ["ALL"]), "qa-a2": ("RS", ["ALL"]), "qa-a3": ("MK", ["ALL"]), "qa-a4": ("RS", ["RS"]),
    "qa-a5": ("HR", ["ALL"]), "qa-a6": ("MK", ["ALL"]), "qa-a7": ("HR", ["HR"]),
}
TASKS = [Task("qa-a1", 9, "do-mk-c"), Task("qa-a2", 23, "do-hr-c"), Task("qa-a3", 3, "do-rs-u"),
         Task("qa-a4", 1, "do-rs-u"), Task("qa-a7", 2, "do-hr-u"), Task("qa-a5", 13, None)]
#: Acknowledgments (and a step done with a note naming the alert) by users who may see the alert.
ACKS = [("do-rs-c", 10), ("do-mk-u", 3), ("do-hr-c", 5), ("do-mk-c", 27), ("resp-mk-c", 6), ("do-hr-u", 24)]
ESCALATED = [13, 7, 2]
#: Releasability requests: (who asks, alert, nations asked for); 17's nation is RS (its feed), 23's unknown.
REQUESTS = [("do-hr-c", 17, ["RS", "HR", "MK"]), ("do-rs-c", 23, ["RS", "HR", "MK"])]


@dataclass
class Matrix:
    server: AppServer
    specs: list[Spec]
    users: dict[str, conftest.TestUser]
    ids: dict[int, str]              # marker number -> alert id as stored
    audit_mark: str                  # the newest audit entry once the set-up's work is done
    audited: set[str] = field(default_factory=set)   # every marker the raw audit trail names at that point

    def spec(self, n: int) -> Spec:
        return next(s for s in self.specs if s.n == n)

    def visible(self, name: str) -> set[str]:
        return expected(BY_NAME[name], self.specs)

    def sees(self, name: str, n: int) -> bool:
        person = BY_NAME[name]
        return self.spec(n).visible_to(person.nation, person.clearance)

    clients: dict[str, httpx.Client] = field(default_factory=dict)

    def client(self, name: str) -> httpx.Client:
        """One keep-alive client per user, with its bearer token (a new connection per request is ~20x slower)."""
        if name not in self.clients:
            self.clients[name] = httpx.Client(base_url=self.server.url, headers=self.users[name].headers, timeout=20)
        return self.clients[name]

    def get(self, path: str, name: str, **params) -> httpx.Response:
        return self.client(name).get(path, params=params)

    def post(self, path: str, name: str, body: dict | None = None) -> httpx.Response:
        return self.client(name).post(f"/api/v1{path}", json=body)


@pytest.fixture(scope="module")
def centre(redis_url, tmp_path_factory) -> Iterator[AppServer]:
    feeds = tmp_path_factory.mktemp("feeds") / "feeds.toml"
    feeds.write_text(FEEDS_TOML, encoding="utf-8")
    # no escalation by the monitor while the matrix runs: the audit trail holds only what the set-up wrote
    yield from serve_in_process(redis_url, feeds_file=feeds, escalation_minutes="critical=600,high=600,medium=600,low=600")


def seed(server: AppServer) -> Matrix:
    """Users, the matrix alerts, assets, tasking, acknowledgments, escalations and requests; then sentinels."""
    from alerts.core.events import Escalated

    url, prefix = server.services.settings.redis_url, server.prefix
    people = {p.name: add_user(url, prefix, p.name, p.role, p.nation, p.clearance) for p in PEOPLE}
    now = datetime.now(UTC)
    specs = build_matrix(now)
    centre = server.services.centre
    result = server.services.alert_pipeline().process([("matrix", s.raw.encode()) for s in specs])
    assert not result.dead, result.dead
    ids = {}
    for spec, accepted in zip(specs, result.accepted, strict=True):
        assert spec.marker.lower() in accepted.id.lower(), (spec.marker, accepted.id)
        ids[spec.n] = accepted.id
    wait_for(lambda: all(centre.index.get(i) is not None for i in ids.values()) or None, 15,
             "the matrix in the read model")
    for spec in specs:  # the routing is what the matrix expects, else every expectation below is wrong
        routing = centre.index.get(ids[spec.n]).routing
        got = (tuple(routing.releasable_to) if routing.releasable_to is not None else None,
               routing.classification or SCHEME.lowest, tuple(routing.caveats),
               routing.tlp.value if routing.tlp else None)
        assert got == (spec.releasable_to, spec.classification, spec.caveats, spec.tlp), (spec.marker, spec.how, got)
    matrix = Matrix(server, specs, people, ids, "")

    centre.assets.put_many([make_asset(a, 44.7 + i * 0.01, 20.4, nation=nation, releasable_to=rel)
                            for i, (a, (nation, rel)) in enumerate(ASSETS.items())])
    wait_for(lambda: all(centre.asset_index.get(a, None) for a in ASSETS) or None, what="the assets")
    for task in TASKS:
        if task.by is None:
            centre.assets.put_many([make_asset(task.asset, 44.75, 20.4, nation=ASSETS[task.asset][0],
                                               releasable_to=ASSETS[task.asset][1], assigned_to=ids[task.alert])])
            continue
        assigned = matrix.post(f"/alerts/{quote(ids[task.alert], safe='')}/assign", task.by,
                               {"asset_id": task.asset})
        assert assigned.status_code == 200, (task, assigned.text)
    wait_for(lambda: all(centre.asset_index.get(t.asset, None).assigned_to == ids[t.alert] for t in TASKS) or None,
             what="the tasking in the read model")
    for name, n in ACKS:
        path = f"/alerts/{quote(ids[n], safe='')}"
        assert matrix.post(f"{path}/ack", name).status_code == 200, (name, n)
        done = matrix.post(f"{path}/checklist/1/done", name, {"note": f"checked QX{n:02d}Z"})
        assert done.status_code == 200, (name, n, done.text)
    for n in ESCALATED:
        centre.audit.record("system", Escalated(ids[n], level=1, reason="matrix"))
    for name, n, nations in REQUESTS:
        asked = matrix.post(f"/alerts/{quote(ids[n], safe='')}/releasability", name,
                            {"releasable_to": nations, "reason": f"widen QX{n:02d}Z"})
        assert asked.status_code == 202, (name, n, asked.text)

    sentinel = {"id": SENTINEL_ALERT, "type": "other", "severity": "low", "title": "End of the matrix",
                "location": {"lat": 44.0, "lon": 20.0}, "reported_at": now.isoformat(), "source": "HR",
                "releasable_to": ["ALL"]}
    server.ingest(sentinel)
    centre.assets.put_many([make_asset(SENTINEL_ASSET, 44.0, 20.0, nation="HR")])
    wait_for(lambda: centre.index.get(SENTINEL_ALERT) and centre.asset_index.get(SENTINEL_ASSET, None),
             what="the sentinels")
    newest = server.services.client.xrevrange(server.services.keys.audit, count=1)[0]
    matrix.audit_mark = newest[0].decode()
    everything = server.services.client.xrange(server.services.keys.audit, "-", "+")
    matrix.audited = set().union(*(markers(repr(fields)) for _, fields in everything))
    return matrix


@pytest.fixture(scope="module")
def matrix(centre) -> Iterator[Matrix]:
    seeded = seed(centre)
    yield seeded
    for client in [*seeded.clients.values(), *(c for (url, _), c in _SESSIONS.items() if url == centre.url)]:
        client.close()



# --- what each user may see, beyond alerts --------------------------------------------------------------------------


def asset_visible(name: str, asset_id: str) -> bool:
    _, releasable = ASSETS[asset_id]
    return RELEASABLE_TO_ALL in releasable or BY_NAME[name].nation in releasable


def asset_markers(m: Matrix, name: str) -> set[str]:
    """The alert markers a user's view of the assets may hold: the alert each visible asset is tasked to,
    when that user may see the alert (else the asset shows committed to nothing named)."""
    return {m.spec(t.alert).marker for t in TASKS if asset_visible(name, t.asset) and m.sees(name, t.alert)}


def request_markers(m: Matrix, name: str) -> set[str]:
    """Requests a user made, or decides (the alert's reporting nation's duty officers; admins when it is
    unknown), about alerts the user may see."""
    person, seen = BY_NAME[name], set()
    deciders = {17: ("duty_officer", "RS"), 23: ("admin", None)}
    for asker, n, _ in REQUESTS:
        role, nation = deciders[n]
        decides = person.role == role and (nation is None or person.nation == nation)
        if (asker == name or decides) and m.sees(name, n):
            seen.add(m.spec(n).marker)
    return seen


def unrouted_markers(m: Matrix, name: str) -> set[str]:
    person = BY_NAME[name]
    if person.role != "admin":
        return set()
    return {s.marker for s in m.specs
            if s.releasable_to is None and SCHEME.rank(s.classification) <= SCHEME.rank(person.clearance)}


def audit_markers(m: Matrix, name: str) -> set[str]:
    """The markers of the set-up's audit entries a reader may see: the auditor all; an admin those whose actor
    (if a user) is of its nation and whose alert it may see (acks, steps, escalations, assignments, requests)."""
    person = BY_NAME[name]
    entries = [(actor, n) for actor, n in ACKS] + [("system", n) for n in ESCALATED] + \
        [(t.by, t.alert) for t in TASKS if t.by] + [(actor, n) for actor, n, _ in REQUESTS]
    if person.role == "auditor":  # and every unrouted arrival (alert.unrouted, by the system)
        return {f"QX{n:02d}Z" for _, n in entries} | {s.marker for s in m.specs if s.releasable_to is None}
    assert person.role == "admin"
    return {f"QX{n:02d}Z" for actor, n in entries
            if (actor == "system" or BY_NAME[actor].nation == person.nation) and m.sees(name, n)}


def marking_for(specs: list[Spec]) -> Marking:
    """The most restrictive marking over ``specs`` (the sentinel, released to all and unmarked, adds nothing)."""
    return most_restrictive([s.marking for s in specs], SCHEME)


def canon(line: str) -> tuple:
    """A marking line with its REL TO list as a set (the order of the nations is the order items came in)."""
    body, _, tlp = line.strip().partition(" TLP:")
    parts = body.split("//")
    rel = [p.removeprefix("REL TO ") for p in parts if p.startswith("REL TO ")]
    return tuple(p for p in parts if not p.startswith("REL TO ")), frozenset(rel[0].split(", ")) if rel else None, tlp


def same_marking(got: dict, want: Marking) -> bool:
    return (got["classification"] or SCHEME.lowest, tuple(got["caveats"]), got["tlp"], frozenset(got["releasable_to"] or ())) == \
        (want.classification, want.caveats, want.tlp.value if want.tlp else None, frozenset(want.releasable_to or ()))


def spec_of(m: Matrix, alert_id: str) -> Spec | None:
    found = markers(alert_id)
    return m.spec(int(next(iter(found))[2:4])) if found else None


# --- sessions and Dash callbacks, posted as the renderer posts them ------------------------------------------------------

_SESSIONS: dict[tuple[str, str], httpx.Client] = {}
_SESSIONS_LOCK = threading.Lock()
_DEPENDENCIES: dict[str, list] = {}


def web(m: Matrix, name: str) -> httpx.Client:
    """A signed-in browser session of ``name`` (cookie, and the CSRF header the renderer sends)."""
    with _SESSIONS_LOCK:
        key = (m.server.url, name)
        if key not in _SESSIONS:
            client = httpx.Client(base_url=m.server.url, timeout=30)
            csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text).group(1)
            user = m.users[name]
            client.post("/login", data={"username": user.name, "password": user.password, "csrf": csrf})
            client.headers["X-CSRFToken"] = client.cookies["_csrf_token"]
            _SESSIONS[key] = client
        return _SESSIONS[key]


def dash_callback(client: httpx.Client, first_output: str, values: dict[str, object], changed: str) -> dict:
    """Post the callback whose first output is ``first_output`` (``id.property``) with ``values`` for its inputs and
    state, as the Dash renderer does; its ``response`` (output id -> property -> value)."""
    if str(client.base_url) not in _DEPENDENCIES:
        _DEPENDENCIES[str(client.base_url)] = client.get("/_dash-dependencies").json()
    specs = _DEPENDENCIES[str(client.base_url)]
    spec = next(s for s in specs if s["output"].strip(".").split("...")[0].split("@")[0] == first_output)
    outputs = [dict(zip(("id", "property"), o.split("@")[0].rsplit(".", 1)))
               for o in spec["output"].strip(".").split("...")]
    value = lambda item: {**item, "value": values.get(f"{item['id']}.{item['property']}")}
    body = {"output": spec["output"], "outputs": outputs if len(outputs) > 1 else outputs[0],
            "inputs": [value(i) for i in spec["inputs"]], "state": [value(s) for s in spec["state"]],
            "changedPropIds": [changed]}
    response = client.post("/_dash-update-component", json=body)
    assert response.status_code in (200, 204), (first_output, response.status_code, response.text[:500])
    return response.json()["response"] if response.status_code == 200 else {}


def find_props(tree: object, key: str) -> list:
    """Every value of ``key`` in a component tree's props (a depth-first walk of the JSON)."""
    found = []
    if isinstance(tree, dict):
        for k, v in tree.items():
            if k == key:
                found.append(v)
            found += find_props(v, key)
    elif isinstance(tree, list):
        for v in tree:
            found += find_props(v, key)
    return found


# --- SSE -----------------------------------------------------------------------------------------------------------


def sse_replay(m: Matrix, name: str, path: str, until: str) -> list[tuple[str, str]]:
    """``path`` replayed from the start of its stream (``after=0-0``) until a frame names ``until``: (event, data)."""
    frames: list[tuple[str, str]] = []
    event = ""
    with httpx.stream("GET", f"{m.server.url}{path}", params={"after": "0-0"}, headers=m.users[name].headers,
                      timeout=httpx.Timeout(15, read=15)) as response:
        assert response.status_code == 200, response.read()
        for line in response.iter_lines():
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                frames.append((event, line[6:]))
                if until in line:
                    return frames
    raise AssertionError(f"{path} for {name}: no frame with {until!r}")


# --- the matrix, path by path -------------------------------------------------------------------------------------------

NAMES = [p.name for p in PEOPLE]
GHOST = "mx-ghost-alert"  # an alert id nobody has: what "not released to you" must look like


def _seen(m: Matrix, name: str) -> list[Spec]:
    return [s for s in m.specs if s.visible_to(BY_NAME[name].nation, BY_NAME[name].clearance)]


def _as_if_absent(response: httpx.Response, alert_id: str, ghost: httpx.Response) -> None:
    """A refusal about ``alert_id`` is the refusal about an alert that does not exist (the id, given by the
    caller, is the only difference), and names no other matrix alert."""
    assert response.status_code == ghost.status_code, (alert_id, response.status_code, response.text)
    assert response.text.replace(quote(alert_id, safe=""), "ID").replace(alert_id, "ID") == \
        ghost.text.replace(GHOST, "ID")
    assert not markers(response.text.replace(quote(alert_id, safe=""), "").replace(alert_id, ""))


def test_rmx001_the_matrix_covers_every_releasability_classification_and_tlp(matrix):
    """(The seed checked every alert's routing; here, that the matrix spans what issue 12 asks.)"""
    specs = matrix.specs
    assert {s.classification for s in specs} == set(DEFAULT_LEVELS)
    assert {s.tlp for s in specs} == {None, *(t.value for t in Tlp)}
    kinds = {("unrouted" if s.releasable_to is None else "all" if s.releasable_to == ALL_NATIONS
              else "one" if len(s.releasable_to) == 1 else "several") for s in specs}
    assert kinds == {"one", "several", "all", "unrouted"}
    assert {s.how.split()[0] for s in specs if s.releasable_to is None} == {"json", "cap", "cot"}
    for person in PEOPLE:  # every user is allowed something and refused something
        assert 0 < len(matrix.visible(person.name)) < len(specs), person
    for level in DEFAULT_LEVELS:  # every level is seen by someone and refused to someone
        assert any(s.classification == level and any(s.visible_to(p.nation, p.clearance) for p in PEOPLE)
                   for s in specs), level


def test_rmx002_the_audit_trail_shows_each_reader_exactly_its_entries(matrix):
    """Audit API (up to the set-up's last entry, so later traffic does not move the expectation) and the /audit
    page (posted as the pages callback; the same entries as the API at that moment)."""
    for person in PEOPLE:
        response = matrix.get("/api/v1/audit", person.name, limit=5000, before=matrix.audit_mark)
        page = dash_callback(web(matrix, person.name), "_pages_content.children",
                             {"_pages_location.pathname": "/audit", "_pages_location.search": ""},
                             "_pages_location.pathname")
        if person.role not in ("admin", "auditor"):
            assert response.status_code == 403 and not markers(response.text), person
            assert "Only administrators and auditors" in json.dumps(page) and not markers(json.dumps(page))
            continue
        assert response.status_code == 200, response.text
        assert markers(response.text) == audit_markers(matrix, person.name), person
        now = matrix.get("/api/v1/audit", person.name, limit=500)
        assert markers(json.dumps(page)) == markers(now.text), person
    assert audit_markers(matrix, "aud-hr-u") == matrix.audited  # the auditor: every marker the trail names


@pytest.mark.parametrize("name", NAMES)
def test_rmx003_alert_list_summary_and_counts(matrix, name):
    want = matrix.visible(name)
    listed = matrix.get("/api/v1/alerts", name, limit=1000)
    assert markers(listed.text) == want
    assert {i["id"] for i in listed.json()["items"]} == {matrix.ids[s.n] for s in _seen(matrix, name)} | \
        {SENTINEL_ALERT}
    assert listed.json()["total"] == len(want) + 1
    for item in listed.json()["items"]:  # each item carries its own marking, as routed
        spec = spec_of(matrix, item["id"])
        if spec is not None:
            routing = item["routing"]
            assert (routing["classification"] or SCHEME.lowest, tuple(routing["caveats"]), routing["tlp"],
                    tuple(routing["releasable_to"])) == (spec.classification, spec.caveats, spec.tlp,
                                                         spec.releasable_to), item["id"]
    summary = matrix.get("/api/v1/summary", name)
    figures = summary.json()
    assert markers(summary.text) == want
    assert figures["total_alerts"] == figures["open_alerts"] == len(want) + 1
    assert figures["by_severity"]["high"] == len(want)
    assert sum(figures["by_country"].values()) == len(want) + 1
    acked = {n for _, n in ACKS}
    assert figures["time_to_acknowledge"]["count"] == len({s.n for s in _seen(matrix, name)} & acked)
    assert set().union(*(markers(i["title"]) for i in figures["open_critical_high"])) == want
    for spec in matrix.specs:  # the producer's id finds an alert only for who may see it
        found = matrix.get("/api/v1/alerts", name, identifier=matrix.ids[spec.n])
        assert found.json()["total"] == (spec.marker in want), (spec.marker, found.text)
    me = matrix.get("/api/v1/me", name).json()
    assert (me["nation"], me["clearance"]) == (BY_NAME[name].nation, BY_NAME[name].clearance)
    health = matrix.get("/api/v1/health", name).json()
    assert not markers(json.dumps(health))
    if BY_NAME[name].role in ("admin", "auditor"):
        assert health["alerts_loaded"] == len(want) + 1  # counted over what the caller may see
    else:
        assert "alerts_loaded" not in health
    assert set(httpx.get(f"{matrix.server.url}/api/v1/health", timeout=10).json()) == {"status"}  # anonymous


@pytest.mark.parametrize("name", NAMES)
def test_rmx004_alert_detail_checklist_suggestions_and_assigned_assets(matrix, name):
    ghosts = {sub: matrix.get(f"/api/v1/alerts/{GHOST}{sub}", name)
              for sub in ("", "/checklist", "/suggestions", "/assets")}
    for spec in matrix.specs:
        alert_id = matrix.ids[spec.n]
        visible = spec.marker in matrix.visible(name)
        suitable = spec.n <= 26  # mass casualties and floods suit medical teams; CoT emergencies ("other") none
        for sub, ghost in ghosts.items():
            response = matrix.get(f"/api/v1/alerts/{quote(alert_id, safe='')}{sub}", name)
            if not visible:
                _as_if_absent(response, alert_id, ghost)
                continue
            assert response.status_code == 200, (spec.marker, sub, response.text)
            extra = {"QX13Z"} if sub == "/suggestions" and suitable and matrix.sees(name, 13) else set()
            assert markers(response.text) == {spec.marker} | extra, (spec.marker, sub)
        if visible:
            assigned = matrix.get(f"/api/v1/alerts/{quote(alert_id, safe='')}/assets", name).json()
            assert {a["id"] for a in assigned["assigned_assets"]} == \
                {t.asset for t in TASKS if t.alert == spec.n and asset_visible(name, t.asset)}
            suggested = matrix.get(f"/api/v1/alerts/{quote(alert_id, safe='')}/suggestions", name).json()["items"]
            assert {s["asset"]["id"] for s in suggested} == ({"qa-a5", "qa-a6", SENTINEL_ASSET} if suitable else set())


@pytest.mark.parametrize("name", NAMES)
def test_rmx005_assets_name_only_alerts_the_viewer_may_see(matrix, name):
    want = asset_markers(matrix, name)
    listed = matrix.get("/api/v1/assets", name)
    assert markers(listed.text) == want
    items = {a["id"]: a for a in listed.json()["items"]}
    assert set(items) == {a for a in ASSETS if asset_visible(name, a)} | {SENTINEL_ASSET}
    for task in TASKS:
        if task.asset in items:
            shown = items[task.asset]["assigned_to"]
            assert shown == (matrix.ids[task.alert] if matrix.sees(name, task.alert) else None), task
            assert items[task.asset]["status"] == ("ready" if task.by is None else "committed")
    if BY_NAME[name].role == "duty_officer":  # a second assign of a tasked asset is refused without naming the alert
        for task in (t for t in TASKS if t.by is not None):
            refused = matrix.post(f"/alerts/{SENTINEL_ALERT}/assign", name, {"asset_id": task.asset})
            assert refused.status_code == (409 if asset_visible(name, task.asset) else 404), refused.text
            assert markers(refused.text) <= ({matrix.spec(task.alert).marker} & matrix.visible(name)), refused.text
    exported = matrix.get("/api/v1/export/assets.geojson", name)
    if BY_NAME[name] not in EXPORTERS:
        assert exported.status_code == 403 and not markers(exported.text)
        return
    assert exported.status_code == 200 and markers(exported.text) == want
    collection = exported.json()
    assert {f["id"] for f in collection["features"]} == set(items)
    assert collection["marking"]["line"] == SCHEME.lowest and same_marking(collection["marking"], Marking(U))


def _check_line(line: str, want: Marking, what: str) -> None:
    assert canon(line) == canon(want.line()), (what, line, want.line())


@pytest.mark.parametrize("name", NAMES)
def test_rmx006_every_export_holds_exactly_what_the_viewer_may_see_under_its_marking(matrix, name):
    want, seen = matrix.visible(name), _seen(matrix, name)
    marking = marking_for(seen)
    paths = [("/api/v1/sitrep", {"format": f}) for f in ("md", "html", "csv", "geojson")] + \
        [("/api/v1/export/alerts.geojson", {}), ("/api/v1/cot", {})]
    responses = {(p, q.get("format")): matrix.get(p, name, **q) for p, q in paths}
    if BY_NAME[name] not in EXPORTERS:
        for key, response in responses.items():
            assert response.status_code == 403 and not markers(response.text), key
        return
    for key, response in responses.items():
        assert response.status_code == 200, (key, response.text)
        assert markers(response.text) == want, key

    md = responses[("/api/v1/sitrep", "md")].text.strip().splitlines()
    for line in (md[0], md[-1]):
        assert line.startswith("**") and line.endswith("**")
        _check_line(line[2:-2], marking, "sitrep md banner")
    for line in md:  # each incident row ends with its own marking
        found = markers(line)
        if found and line.startswith("| "):
            _check_line(line.rstrip(" |").rsplit(" | ", 1)[1], matrix.spec(int(next(iter(found))[2:4])).marking, line)

    tree = etree.HTML(responses[("/api/v1/sitrep", "html")].text)
    banners = ["".join(b.itertext()) for b in tree.xpath('//div[contains(@class, "banner")]')]
    assert len(banners) == 2
    for banner in banners:
        _check_line(banner, marking, "sitrep html banner")

    first, _, rest = responses[("/api/v1/sitrep", "csv")].text.partition("\n")
    assert len(next(csv.reader([first]))) == 1
    _check_line(next(csv.reader([first]))[0], marking, "sitrep csv first row")
    rows = list(csv.DictReader(io.StringIO(rest)))
    assert {r["id"] for r in rows} == {matrix.ids[s.n] for s in seen} | {SENTINEL_ALERT}
    for row in rows:
        spec = spec_of(matrix, row["id"])
        if spec is not None:
            assert (row["classification"], tuple(c for c in re.split("[;,]", row["caveats"]) if c), row["tlp"] or None,
                    frozenset(row["releasable_to"].split(";"))) == \
                (spec.classification, spec.caveats, spec.tlp, frozenset(spec.releasable_to)), row

    for key in (("/api/v1/sitrep", "geojson"), ("/api/v1/export/alerts.geojson", None)):
        collection = responses[key].json()
        assert same_marking(collection["marking"], marking), (key, collection["marking"])
        _check_line(collection["marking"]["line"], marking, str(key))
        features = [f for f in collection["features"] if not str(f["id"]).startswith("qa-")]  # SITREP: assets too
        assert {f["id"] for f in features} == {matrix.ids[s.n] for s in seen} | {SENTINEL_ALERT}
        for feature in features:
            spec = spec_of(matrix, feature["id"])
            if spec is not None:
                assert same_marking({**feature["properties"], "caveats": feature["properties"].get("caveats", [])},
                                    spec.marking), (key, feature["id"])

    _check_cot(matrix, responses[("/api/v1/cot", None)].content, seen, marking)


def _check_cot(matrix: Matrix, body: bytes, seen: list[Spec], marking: Marking) -> None:
    from alerts.core.nations import to_alpha3

    def trigraphs(nations) -> str | None:
        return None if nations is None or RELEASABLE_TO_ALL in nations else " ".join(sorted(to_alpha3(n) for n in nations))

    def attributes(element) -> tuple:
        rel = element.get("releasableTo")
        return (element.get("access"), element.get("caveat") or None,
                " ".join(sorted(rel.split())) if rel else None)

    root = etree.fromstring(body)
    comment = root.getprevious()
    assert comment is not None and comment.tag is etree.Comment
    _check_line(comment.text, marking, "cot comment")
    assert attributes(root) == (marking.classification, ",".join(marking.caveats) or None,
                                trigraphs(marking.releasable_to)), body[:300]
    alert_events = {e.get("uid"): e for e in root.iter("event") if e.get("uid", "").startswith("crisis.alert.")}
    assert set(alert_events) == {f"crisis.alert.{matrix.ids[s.n]}" for s in seen} | {f"crisis.alert.{SENTINEL_ALERT}"}
    for uid, event in alert_events.items():
        spec = spec_of(matrix, uid)
        if spec is None:
            continue
        assert attributes(event) == (spec.classification, ",".join(spec.caveats) or None,
                                     trigraphs(spec.releasable_to)), uid
        crisis = event.find("detail/crisis")
        assert crisis.get("tlp") == spec.tlp, uid
    for event in root.iter("event"):  # an asset event names only its own alert, and only when the viewer may see it
        if not event.get("uid", "").startswith("crisis.alert."):
            text = etree.tostring(event).decode()
            assert markers(text) <= {s.marker for s in seen}, text[:300]


@pytest.mark.parametrize("name", NAMES)
def test_rmx007_unrouted_and_releasability_requests(matrix, name):
    unrouted = matrix.get("/api/v1/unrouted", name, limit=1000)
    if BY_NAME[name].role == "admin":
        assert unrouted.status_code == 200 and markers(unrouted.text) == unrouted_markers(matrix, name)
        assert unrouted.json()["total"] == len(unrouted_markers(matrix, name))
    else:
        assert unrouted.status_code == 403 and not markers(unrouted.text)
    for state in ("pending", "all"):
        requests = matrix.get("/api/v1/releasability-requests", name, state=state)
        assert requests.status_code in (200, 403), requests.text
        assert markers(requests.text) == request_markers(matrix, name), (state, requests.text)
        if request_markers(matrix, name):
            assert requests.status_code == 200


@pytest.mark.parametrize("name", NAMES)
def test_rmx008_live_streams_replayed_from_the_start(matrix, name):
    frames = sse_replay(matrix, name, "/live/alerts", SENTINEL_ALERT)
    assert markers("".join(data for _, data in frames)) == matrix.visible(name)
    created = {json.loads(data)["id"] for event, data in frames if event == "alert"}
    assert created == {matrix.ids[s.n] for s in _seen(matrix, name)} | {SENTINEL_ALERT}
    assert {event for event, _ in frames} <= {"alert", "update"}
    for event, data in frames:  # each event carries the alert's own marking
        spec = spec_of(matrix, json.loads(data)["id"])
        if spec is not None:
            assert same_marking(json.loads(data)["marking"], spec.marking), data[:200]
    assets = sse_replay(matrix, name, "/live/assets", SENTINEL_ASSET)
    assert markers("".join(data for _, data in assets)) == asset_markers(matrix, name)


MAP_VALUES = {"filter-severity.value": ["critical", "high", "medium", "low"], "filter-type.value": None,
              "filter-country.value": None, "filter-window.value": 0, "filter-exercise.value": "all",
              "watchdog.n_intervals": None, "layer-toggles.value": ["assets"], "coverage-capability.value": "medevac",
              "coverage-minutes.value": 60}


def map_response(m: Matrix, name: str) -> dict:
    return dash_callback(web(m, name), "incident-map.figure", MAP_VALUES, "filter-severity.value")


@pytest.mark.parametrize("name", NAMES)
def test_rmx009_dash_callbacks_posted_directly(matrix, name):
    want, seen, client = matrix.visible(name), _seen(matrix, name), web(matrix, name)
    # the map's rebuild: figure (points, hover), the list it starts from, its marking
    built = map_response(matrix, name)
    assert markers(json.dumps(built)) == want
    customdata = [c for trace in built["incident-map"]["figure"]["data"] for c in trace.get("customdata") or []]
    assert markers(" ".join(map(str, customdata))) == want
    source = built["live-source"]["data"]
    assert {i["id"] for i in source["items"]} == {matrix.ids[s.n] for s in seen} | {SENTINEL_ALERT}
    assert same_marking(source["marking"], marking_for(seen)), source["marking"]
    assert set(source["asset_ids"]) == {a for a in ASSETS if asset_visible(name, a)} | {SENTINEL_ASSET}
    # details of every alert, as if selected in the list
    for spec in matrix.specs:
        details = dash_callback(client, "alert-details.children", {"selected-alert.data": {"id": matrix.ids[spec.n]}},
                                "selected-alert.data")
        assert markers(json.dumps(details)) == ({spec.marker} & want), spec.marker
    # details of every asset, as if clicked on the map
    for asset in [*ASSETS, SENTINEL_ASSET, "qa-ghost"]:
        picked = {"kind": "asset", "id": asset}  # as the map's picker selects it (assets/map_select.js)
        details = json.dumps(dash_callback(client, "alert-details.children", {"selected-alert.data": picked},
                                           "selected-alert.data"))
        task = next((t for t in TASKS if t.asset == asset), None)
        allowed = {matrix.spec(task.alert).marker} if task and asset_visible(name, asset) and \
            matrix.sees(name, task.alert) else set()
        assert markers(details) == allowed, asset
        assert (asset in details) == (asset in ASSETS and asset_visible(name, asset) or asset == SENTINEL_ASSET)
    # the response queue and every alert's checklist panel
    queue = dash_callback(client, "queue.children", {"queue-live.data": 1}, "queue-live.data")
    assert markers(json.dumps(queue)) == want
    assert set(find_props(queue, "data-alert-id")) == {matrix.ids[s.n] for s in seen} | {SENTINEL_ALERT}
    rows = [r for r in find_props(queue["queue"], "props") if "data-alert-id" in r and "data-marking" in r]
    for row in rows:  # each row carries its alert's own marking
        spec = spec_of(matrix, row["data-alert-id"])
        if spec is not None:
            assert same_marking(json.loads(row["data-marking"]), spec.marking), row["data-alert-id"]
    assert len(rows) == len(want) + 1
    ghost = json.dumps(dash_callback(client, "checklist-panel.children", {"selected-case.data": GHOST},
                                     "selected-case.data"))
    for spec in matrix.specs:
        alert_id = matrix.ids[spec.n]
        panel = json.dumps(dash_callback(client, "checklist-panel.children", {"selected-case.data": alert_id},
                                         "selected-case.data"))
        if spec.marker in want:
            assert markers(panel) == {spec.marker} and "steps" in panel, spec.marker
        else:
            assert panel.replace(alert_id, "ID") == ghost.replace(GHOST, "ID"), spec.marker
    # the situation page: table, tiles, marking
    situation = dash_callback(client, "sit-tiles.children", {"sit-window.value": 24, "sit-exercise.value": "all",
                                                             "sit-live.data": 1}, "sit-window.value")
    assert markers(json.dumps(situation)) == want
    marking = json.loads(find_props(situation["sit-tiles"], "data-marking")[0])
    assert same_marking(marking, marking_for(seen)), marking
    high = next(t for t in find_props(situation["sit-tiles"], "props") if t.get("id") == "tile-high")
    assert high["children"] == str(len(want))
    # the sharing page's lists
    requests = dash_callback(client, "sharing-requests.children", {"sharing-tick.n_intervals": 1},
                             "sharing-tick.n_intervals")
    assert markers(json.dumps(requests)) == request_markers(matrix, name)
    unrouted = dash_callback(client, "unrouted-list.children", {"sharing-tick.n_intervals": 1},
                             "sharing-tick.n_intervals")
    assert markers(json.dumps(unrouted)) == unrouted_markers(matrix, name)
    # every page's layout, as the pages callback sends it (the lists come from the callbacks above)
    for path in ("/", "/queue", "/situation", "/sharing"):
        layout = dash_callback(client, "_pages_content.children",
                               {"_pages_location.pathname": path, "_pages_location.search": ""},
                               "_pages_location.pathname")
        assert not markers(json.dumps(layout)), path


def test_rmx010_after_the_whole_matrix_the_audit_trail_still_names_only_what_each_admin_may_see(matrix):
    """The audit trail names alerts in work on them and in token use (the first call of each token in each
    hour, which names the alert in its path, even a refused probe): an admin reads those entries only about
    alerts it may see; the auditor reads them all."""
    raw = matrix.server.services.client.xrange(matrix.server.services.keys.audit, "-", "+")
    named = set().union(*(markers(repr(fields)) for _, fields in raw))
    assert named <= {s.marker for s in matrix.specs}
    for person in PEOPLE:
        if person.role not in ("admin", "auditor"):
            continue
        seen, before = set(), "+"
        while before:
            page = matrix.get("/api/v1/audit", person.name, limit=5000, before=before).json()
            seen |= markers(json.dumps(page["items"]))
            before = page["next_before"]
        if person.role == "auditor":
            assert seen == named
        else:
            assert audit_markers(matrix, person.name) <= seen <= matrix.visible(person.name), person


@pytest.mark.parametrize("name", NAMES)
def test_rmx011_the_record_replayed_holds_exactly_what_the_viewer_may_see(matrix, name):
    """The timeline (every alert, asset and audit event of the record) and the state at now name exactly the
    alerts ``/alerts`` does: the same releasability and clearance rule."""
    want = matrix.visible(name)
    timeline = matrix.get("/api/v1/timeline", name)
    assert timeline.status_code == 200, timeline.text
    assert markers(timeline.text) == want, name
    state = matrix.get("/api/v1/state", name, at=datetime.now(UTC).isoformat())
    assert state.status_code == 200, state.text
    assert markers(state.text) == want, name
    assert {a["id"] for a in state.json()["alerts"]} == {matrix.ids[s.n] for s in _seen(matrix, name)} | \
        {SENTINEL_ALERT}
