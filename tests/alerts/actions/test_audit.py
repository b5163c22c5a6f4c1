"""The audit trail as each reader may see it (``alerts.actions.audit``), on a real Redis.

One trail holds entries about alerts of every releasability and classification,
users and tokens of several nations, the system and command-line operators;
each test reads it as a given reader and checks exactly which entries come back.
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

import pytest

from alerts.actions.audit import account_nations, audit_entries, path_alert_ids
from alerts.actions.errors import Forbidden, Invalid
from alerts.core.events import (
    Acknowledged, AssetAssigned, AssetsImported, AuditEvent, Escalated, GeoJsonExported, SignedIn, SignInFailed,
    StepCompleted, TokenCreated, TokenRevoked, TokenUsed, UserAdded,
)
from alerts.store.accounts import Accounts
from tests.conftest import alert_pipeline, make_alert, make_asset, payload

PASSWORD = "a-long-password-1"


# Audit events of kinds the trail does not know yet (what releasability work will add): filtered by the one rule.
@dataclass(frozen=True)
class SubjectIsAnAlert(AuditEvent, action="test.about_alert"):
    """Its subject is an alert id."""

    reason: str = ""


@dataclass(frozen=True)
class CarriesAnAlert(AuditEvent, action="test.carries_alert"):
    """Its subject is something else; it carries an ``alert_id``."""

    alert_id: str = ""


@pytest.fixture
def world(client, keys, centre, regions):
    """Alerts, users and an asset; ``centre.index`` holds every alert but ``late`` (as if not followed yet)."""
    alerts = {
        "rs": make_alert(source="RS", releasable_to=["RS"]),
        "shared": make_alert(source="MK", releasable_to=["ALL"]),
        "rs-secret": make_alert(source="RS", releasable_to=["RS", "MK"], classification="SECRET"),
        "odd": make_alert(id="aud a/b%2F?é", source="RS", releasable_to=["RS"]),
        "late": make_alert(source="RS", releasable_to=["RS"]),
    }
    pipeline = alert_pipeline(client, keys, regions)
    pipeline.process([("test", payload(a)) for name, a in alerts.items() if name != "late"])
    centre.index.load(list(centre.alerts.all_alerts()), "0-0")
    pipeline.process([("test", payload(alerts["late"]))])
    ids = {name: a["id"] for name, a in alerts.items()}
    assert set(ids.values()) - {s.id for s in centre.alerts.all_alerts()} == set()
    assert centre.index.get(ids["late"]) is None and centre.index.get(ids["odd"]) is not None
    accounts = Accounts(client, keys)
    for name, role, nation, clearance in [("admin-rs", "admin", "RS", "CONFIDENTIAL"), ("admin-mk", "admin", "MK", "SECRET"),
                                          ("duty-rs", "duty_officer", "RS", None), ("duty-mk", "duty_officer", "MK", None),
                                          ("auditor-gr", "auditor", "GR", None), ("resp-rs", "responder", "RS", None)]:
        accounts.add_user(name, role, nation, PASSWORD, clearance)
    centre.assets.put_many([make_asset("aud-rs-only", 44.0, 20.0, nation="RS", releasable_to=None),
                            make_asset("aud-all", 44.0, 20.0, nation="RS", releasable_to=["ALL"])])
    viewers = {u.name: u.viewer("token", accounts.scheme) for u in accounts.list_users()}
    return ids, viewers, account_nations(accounts)


def _trail(centre, ids) -> dict[str, str]:
    """Write one entry of each kind; returns label -> entry id (labels say what each is about)."""
    odd = ids["odd"]
    writes = [
        ("ack rs by duty-rs", "duty-rs", Acknowledged(ids["rs"], via="api")),
        ("ack shared by duty-mk", "duty-mk", Acknowledged(ids["shared"], via="api")),
        ("ack shared by duty-rs", "duty-rs", Acknowledged(ids["shared"], via="api")),
        ("step secret by duty-rs", "duty-rs", StepCompleted(ids["rs-secret"], step=1, note="n")),
        ("step secret by duty-mk", "duty-mk", StepCompleted(ids["rs-secret"], step=1, note="n")),
        ("escalate rs", "system", Escalated(ids["rs"], level=1, reason="r")),
        ("escalate shared", "system", Escalated(ids["shared"], level=1, reason="r")),
        ("escalate late", "system", Escalated(ids["late"], level=1, reason="r")),
        ("assign all-asset to rs by duty-rs", "duty-rs", AssetAssigned("aud-all", alert_id=ids["rs"], status="c")),
        ("assign all-asset to shared by duty-mk", "duty-mk", AssetAssigned("aud-all", alert_id=ids["shared"],
                                                                           status="c")),
        ("assign rs-asset to shared by duty-rs", "duty-rs", AssetAssigned("aud-rs-only", alert_id=ids["shared"],
                                                                           status="c")),
        ("assign to a missing alert by duty-mk", "duty-mk", AssetAssigned("aud-all", alert_id="no-such-alert")),
        ("token use of rs by duty-mk", "duty-mk", TokenUsed("t1", method="GET", path=f"/api/v1/alerts/{ids['rs']}")),
        ("token use of odd (decoded) by duty-mk", "duty-mk",
         TokenUsed("t1", method="POST", path=f"/api/v1/alerts/{odd}/ack")),
        ("token use of odd (encoded) by duty-mk", "duty-mk",
         TokenUsed("t1", method="GET", path=f"/api/v1/alerts/{quote(odd, safe='')}/checklist/1/done")),
        ("token use of shared by duty-mk", "duty-mk",
         TokenUsed("t1", method="GET", path=f"/api/v1/alerts/{quote(ids['shared'], safe='')}/suggestions")),
        ("token use of the list by duty-mk", "duty-mk", TokenUsed("t1", method="GET", path="/api/v1/alerts")),
        ("token use of the list by duty-rs", "duty-rs", TokenUsed("t2", method="GET", path="/api/v1/alerts")),
        ("sign-in duty-rs", "duty-rs", SignedIn("duty-rs", role="duty_officer")),
        ("sign-in duty-mk", "duty-mk", SignedIn("duty-mk", role="duty_officer")),
        ("failed sign-in duty-mk", "duty-mk", SignInFailed("duty-mk")),
        ("failed sign-in nobody", "nobody", SignInFailed("nobody")),
        ("token create for duty-mk", "cli:root", TokenCreated("t1", user="duty-mk")),
        ("token create for ghost", "cli:root", TokenCreated("t9", user="ghost")),
        ("token revoke", "cli:root", TokenRevoked("t1")),
        ("user add duty-mk", "cli:root", UserAdded("duty-mk", role="duty_officer", nation="MK")),
        ("export by duty-rs", "duty-rs", GeoJsonExported("alerts", count=2)),
        ("export by duty-mk", "duty-mk", GeoJsonExported("alerts", count=1)),
        ("asset import", "cli:root", AssetsImported("orbat.csv", imported=2)),
        ("new event about rs", "system", SubjectIsAnAlert(ids["rs"], reason="widened")),
        ("new event about shared", "system", SubjectIsAnAlert(ids["shared"], reason="widened")),
        ("new event carrying rs", "system", CarriesAnAlert("request-1", alert_id=ids["rs"])),
        ("new event carrying late", "system", CarriesAnAlert("request-2", alert_id=ids["late"])),
    ]
    return {label: centre.audit.record(actor, event, "10.0.0.1") for label, actor, event in writes}


SEEN_BY = {
    "admin-rs": {  # RS users' work on alerts RS may see (CONFIDENTIAL: not the SECRET one), the system's on them
        "ack rs by duty-rs", "ack shared by duty-rs", "escalate rs", "escalate shared", "escalate late",
        "assign all-asset to rs by duty-rs", "assign rs-asset to shared by duty-rs",
        "token use of the list by duty-rs", "sign-in duty-rs", "export by duty-rs",
        "new event about rs", "new event about shared", "new event carrying rs", "new event carrying late",
    },
    "admin-mk": {  # MK users, never anything naming an RS-only alert (however it is spelt) or an RS-only asset
        "ack shared by duty-mk", "step secret by duty-mk", "escalate shared", "assign all-asset to shared by duty-mk",
        "token use of shared by duty-mk", "token use of the list by duty-mk", "sign-in duty-mk",
        "failed sign-in duty-mk", "token create for duty-mk", "user add duty-mk", "export by duty-mk",
        "new event about shared",
    },
}


def _labels(view, trail) -> set[str]:
    names = {entry_id: label for label, entry_id in trail.items()}
    return {names[e.entry_id] for e in view.entries}


@pytest.mark.parametrize("reader", sorted(SEEN_BY))
def test_aud001_an_admin_sees_exactly_the_entries_about_its_nations_users_and_alerts_it_may_see(world, centre, reader):
    ids, viewers, nations = world
    trail = _trail(centre, ids)
    view = audit_entries(centre, viewers[reader], nations, count=1000)
    assert _labels(view, trail) == SEEN_BY[reader]
    assert view.before is None  # the whole trail was read
    hidden = {ids["rs"], ids["odd"], quote(ids["odd"], safe=""), ids["late"]} if reader == "admin-mk" else set()
    text = repr(view.entries)
    assert not [alert_id for alert_id in hidden if alert_id in text]


def test_aud002_the_auditor_sees_every_entry_newest_first(world, centre):
    ids, viewers, nations = world
    trail = _trail(centre, ids)
    view = audit_entries(centre, viewers["auditor-gr"], nations, count=1000)
    assert [e.entry_id for e in view.entries] == list(reversed(trail.values()))
    assert [e.entry_id for e in audit_entries(centre, viewers["auditor-gr"], nations, count=3).entries] == \
        list(reversed(trail.values()))[:3]


def test_aud003_readers_without_read_audit_are_refused_and_bad_cursors_are_invalid(world, centre):
    _, viewers, nations = world
    for name in ("duty-rs", "resp-rs"):
        with pytest.raises(Forbidden):
            audit_entries(centre, viewers[name], nations)
    for before in ("", "latest", "1-2-3", "(+", "-", f"{2**64}-0", f"1-{2**64}"):
        with pytest.raises(Invalid):
            audit_entries(centre, viewers["admin-rs"], nations, before=before)
    with pytest.raises(Invalid):
        audit_entries(centre, viewers["admin-rs"], nations, count=0)


def test_aud004_paging_fills_each_page_from_older_entries_and_stops_at_the_bound(world, centre):
    ids, viewers, nations = world
    admin = viewers["admin-mk"]
    visible = []
    for n in range(3):
        visible.append(centre.audit.record("duty-mk", SignedIn("duty-mk")))
        for _ in range(40):  # hidden from MK
            centre.audit.record("duty-rs", Acknowledged(ids["rs"]))
    newest_first = visible[::-1]
    first = audit_entries(centre, admin, nations, count=2)
    assert [e.entry_id for e in first.entries] == newest_first[:2]
    second = audit_entries(centre, admin, nations, count=2, before=first.before)
    assert [e.entry_id for e in second.entries] == newest_first[2:] and second.before is None
    assert audit_entries(centre, admin, nations, count=5, before=newest_first[1]).entries[0].entry_id == newest_first[1]
    bounded = audit_entries(centre, admin, nations, count=5, most=30)  # only hidden entries within the bound
    assert bounded.entries == [] and bounded.before is not None
    rest = audit_entries(centre, admin, nations, count=5, before=bounded.before)
    assert [e.entry_id for e in rest.entries] == newest_first


def test_aud005_a_users_entries_follow_the_nation_its_account_has(world, centre, client, keys):
    ids, viewers, nations = world
    entry = centre.audit.record("duty-rs", SignedIn("duty-rs"))
    seen = lambda reader: entry in [e.entry_id for e in audit_entries(centre, viewers[reader], nations).entries]  # noqa: E731
    assert seen("admin-rs") and not seen("admin-mk")
    Accounts(client, keys).set_user("duty-rs", nation="MK")
    assert seen("admin-mk") and not seen("admin-rs")


def test_aud006_path_alert_ids_reads_every_spelling_of_an_id_in_a_path():
    assert path_alert_ids("/api/v1/alerts/a%2Fb/ack") == ["a%2Fb/ack", "a%2Fb", "a/b/ack", "a/b", "a"]
    assert path_alert_ids("/api/v1/alerts") == [] and path_alert_ids("/api/v1/assets") == []
    assert path_alert_ids("/api/v1/alerts/x y/checklist/2/done")[-1] == "x y"
    assert len(path_alert_ids("/api/v1/alerts/" + "/".join(["s"] * 1000))) <= 16
