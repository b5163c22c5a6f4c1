"""Routing of real messages: reporting nation, releasability and markings from the message or its feed."""
from __future__ import annotations

import json

import pytest

from alerts.core.feeds import Feed, FeedRegistry
from alerts.core.markings import Classifications, MarkingError, Tlp
from alerts.core.routing import Router, route
from alerts.formats.decode import decode_alert
from tests.alerts.core.test_feeds import EXAMPLE
from tests.alerts.formats.test_cap import cap_xml
from tests.alerts.formats.test_cot import cot_event
from tests.conftest import make_alert

FEEDS = FeedRegistry.load(EXAMPLE)
SCHEME = Classifications()
NO_FEEDS = FeedRegistry()


def routed(payload: str | dict, feeds: FeedRegistry = FEEDS):
    raw = json.dumps(payload).encode() if isinstance(payload, dict) else payload.encode()
    return route(decode_alert(raw), feeds, SCHEME)


# --- CAP ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("restriction", ["REL TO BA, HR, RS", "Releasable to BA, HR, RS",
                                         "NATO RESTRICTED//REL TO BIH, HRV, SRB"])
def test_rte001_cap_restricted_rel_to_reaches_exactly_the_named_nations_registered_or_not(restriction):
    for sender, nation in (("alerts@mup.gov.rs", "RS"), ("someone@example.org", None)):
        routing = routed(cap_xml(sender=sender, scope="Restricted", restriction=restriction))
        assert routing.routed and routing.nation == nation
        assert sorted(routing.releasable_to) == ["BA", "HR", "RS"]


def test_rte002_cap_from_a_registered_sender_without_rel_to_takes_the_feed_default():
    routing = routed(cap_xml(sender="ops@police.mup.gov.rs", scope="Restricted", restriction="for services only"))
    assert routing.feed == "rs-interior-ministry" and routing.nation == "RS"
    assert routing.releasable_to == ["RS", "BA", "HR", "ME"]
    assert routing.classification == "RESTRICTED" and routing.tlp is Tlp.AMBER  # the feed's defaults


def test_rte003_cap_markings_in_the_restriction_win_over_the_feed_defaults():
    routing = routed(cap_xml(sender="alerts@mup.gov.rs", scope="Restricted",
                             restriction="CONFIDENTIAL // REL TO RS, HR // TLP:RED"))
    assert routing.classification == "CONFIDENTIAL" and routing.tlp is Tlp.RED
    assert routing.releasable_to == ["RS", "HR"]


def test_rte004_unregistered_cap_without_releasability_is_unrouted_with_its_origin():
    routing = routed(cap_xml(sender="ops@unknown.example", scope="Restricted", restriction="staff only"))
    assert not routing.routed
    assert "ops@unknown.example" in routing.origin and "no registered feed" in routing.reason


def test_rte005_a_rel_to_naming_a_non_country_reaches_only_the_feed_s_own_nation_never_the_feed_default():
    """A registered feed's own nation always sees its alerts: a REL TO NATO from it reached nobody (held as
    unrouted until an admin acted; a TAK 911 of a nation's own device hidden from that nation). It reaches that
    nation alone, never the feed's wider default; from an unregistered sender it is still unrouted."""
    routing = routed(cap_xml(sender="alerts@mup.gov.rs", scope="Restricted", restriction="REL TO NATO"))
    assert routing.releasable_to == ["RS"] and routing.nation == "RS" and "'NATO'" in routing.reason
    routing = routed(cap_xml(sender="ops@unknown.example", scope="Restricted", restriction="REL TO NATO"))
    assert not routing.routed and "'NATO'" in routing.reason


def test_rte006_a_classification_the_deployment_does_not_have_cannot_be_honoured():
    with pytest.raises(MarkingError, match="TOP SECRET"):
        routed(cap_xml(sender="alerts@mup.gov.rs", scope="Restricted", restriction="TOP SECRET//REL TO RS"))


def test_rte007_cap_public_is_releasable_to_all_and_private_to_its_nation_addresses():
    assert routed(cap_xml(sender="x@unknown.example", scope="Public")).releasable_to == ["ALL"]
    assert routed(cap_xml(sender="x@unknown.example", scope="Private", addresses="HR BA")).releasable_to == ["HR", "BA"]


# --- CoT ----------------------------------------------------------------------------------------


def test_rte010_a_tak_emergency_from_a_registered_uid_prefix_reaches_its_nation():
    routing = routed(cot_event(uid="ANDROID-BA-77-9-1-1", callsign="Alpha"))
    assert routing.feed == "ba-armed-forces-tak" and routing.nation == "BA" and "BA" in routing.releasable_to
    assert routing.classification == "RESTRICTED"


def test_rte011_a_tak_emergency_by_callsign_prefix_and_an_unregistered_one():
    assert routed(cot_event(uid="ANDROID-x-9-1-1", callsign="BIH Bravo")).nation == "BA"
    unknown = routed(cot_event(uid="ANDROID-x-9-1-1", callsign="All"))
    assert not unknown.routed and "callsign All" in unknown.origin


def test_rte011b_a_message_that_names_no_feed_takes_the_feed_of_the_listener_it_arrived_on():
    unknown = decode_alert(cot_event(uid="ANDROID-x-9-1-1", callsign="All").encode())
    assert not route(unknown, FEEDS, SCHEME).routed
    tagged = route(unknown, FEEDS, SCHEME, arrived_on="rs-interior-ministry")
    assert tagged.feed == "rs-interior-ministry" and tagged.nation == "RS" and tagged.routed
    assert tagged.classification == "RESTRICTED"
    assert not route(unknown, FEEDS, SCHEME, arrived_on="no-such-feed").routed  # a feed removed since


def test_rte011c_a_device_on_one_nations_listener_cannot_speak_for_another_by_its_uid():
    """The listener's feed is authenticated by how the message arrived; a ``BA-`` uid is only a claim."""
    ba_device = decode_alert(cot_event(uid="ANDROID-BA-77-9-1-1").encode())
    assert route(ba_device, FEEDS, SCHEME).feed == "ba-armed-forces-tak"  # untagged: recognised by content
    on_rs = route(ba_device, FEEDS, SCHEME, arrived_on="rs-interior-ministry")
    assert on_rs.feed == "rs-interior-ministry" and on_rs.nation == "RS"


def test_rte011d_a_relay_feed_carries_other_feeds_traffic_recognised_by_content():
    relay = Feed(name="regional-tak-server", nation="MK", releasable_to=["MK"], cot_uid_prefix=["MK-"], relay=True)
    feeds = FeedRegistry([*FEEDS.feeds, relay])
    ba_device = decode_alert(cot_event(uid="ANDROID-BA-77-9-1-1").encode())
    assert route(ba_device, feeds, SCHEME, arrived_on="regional-tak-server").nation == "BA"
    unknown = decode_alert(cot_event(uid="ANDROID-x-9-1-1", callsign="All").encode())
    assert route(unknown, feeds, SCHEME, arrived_on="regional-tak-server").feed == "regional-tak-server"


def test_rte012_cot_access_caveat_and_releasable_to_attributes():
    routing = routed(cot_event(uid="ANDROID-x-9-1-1", markings="access='Confidential' caveat='FOUO' "
                                                               "releasableTo='SRB HRV'"), NO_FEEDS)
    assert routing.releasable_to == ["RS", "HR"] and routing.classification == "CONFIDENTIAL"
    assert routing.caveats == ["FOUO"]
    assert routed(cot_event(uid="ANDROID-x-9-1-1", markings="access='Undefined' releaseableTo='BA'"),
                  NO_FEEDS).releasable_to == ["BA"]


def test_rte013_a_cot_cancel_is_routed_like_the_emergency_it_cancels():
    cancel = routed(cot_event(cot_type="b-a-o-can", uid="ANDROID-BA-77-9-1-1", callsign="Alpha"))
    assert cancel.feed == "ba-armed-forces-tak"


# --- our JSON -----------------------------------------------------------------------------------


@pytest.mark.parametrize("source", ["ALL", "all", "RS", "Serbia"])
def test_rte020_source_is_never_a_releasability(source):
    routing = routed(make_alert(source=source, releasable_to=None), NO_FEEDS)
    assert not routing.routed and routing.releasable_to is None


def test_rte021_json_with_a_nation_source_and_explicit_releasability_routes_as_before():
    routing = routed(make_alert(source="RS", releasable_to=["RS", "HU"]), NO_FEEDS)
    assert routing.nation == "RS" and routing.releasable_to == ["RS", "HU"]
    other = routed(make_alert(source="RS", releasable_to=["HU"]), NO_FEEDS)
    assert other.releasable_to == ["HU"]  # an unregistered source is not added: source is never a releasability


def test_rte022_json_markings_and_the_registered_source():
    routing = routed(make_alert(source="MK-CMC", releasable_to=None, classification="nato confidential",
                                caveats=["fouo"], tlp="amber+strict"))
    assert routing.nation == "MK" and routing.releasable_to == ["MK", "AL", "GR", "BG"]
    assert routing.classification == "CONFIDENTIAL" and routing.caveats == ["FOUO"]
    assert routing.tlp is Tlp.AMBER_STRICT
    with pytest.raises(MarkingError):
        routed(make_alert(source="MK-CMC", classification="COSMIC TOP SECRET"))
    with pytest.raises(MarkingError):
        routed(make_alert(source="MK-CMC", tlp="PURPLE"))


def test_rte023_usgs_feed_is_public():
    usgs = {"type": "Feature", "id": "us7000abcd", "geometry": {"type": "Point", "coordinates": [20.4, 44.8, 10]},
            "properties": {"mag": 4.1, "place": "near Belgrade", "time": 1714557600000, "type": "earthquake",
                           "net": "us", "code": "7000abcd", "title": "M 4.1 - near Belgrade"}}
    assert routed(usgs, NO_FEEDS).releasable_to == ["ALL"]


def test_rte011e_a_listener_feed_that_is_not_registered_vouches_for_nothing():
    ba_device = decode_alert(cot_event(uid="ANDROID-BA-77-9-1-1").encode())
    routing = route(ba_device, FEEDS, SCHEME, arrived_on="removed-feed")
    assert not routing.routed and routing.feed is None and routing.nation is None


def test_rte024_the_router_remembers_json_routings_and_answers_exactly_as_route():
    """``Router`` (what ingest uses) gives ``route``'s answer for every format, from the feed it arrived on too;
    JSON alerts alike share one routing, and markings that cannot be honoured are refused every time."""
    router = Router(FEEDS, SCHEME)
    messages = [make_alert(source="MK-CMC", releasable_to=None), make_alert(source="MK-CMC", releasable_to=None),
                make_alert(source="RS", releasable_to=["RS", "HU"]), make_alert(source="RS", releasable_to=["HU"]),
                make_alert(source="RS", releasable_to=None), make_alert(source="MK-CMC", caveats=["fouo"], tlp="red"),
                make_alert(source="MK-CMC", classification="nato confidential"),
                cap_xml(sender="alerts@mup.gov.rs", scope="Restricted", restriction="REL TO BA, HR"),
                cot_event(uid="ANDROID-BA-77-9-1-1"), cot_event(uid="ANDROID-x-9-1-1", callsign="All")]
    for message in messages * 2:
        raw = json.dumps(message).encode() if isinstance(message, dict) else message.encode()
        alert = decode_alert(raw)
        for arrived_on in (None, "rs-interior-ministry", "removed-feed"):
            assert router.route(alert, arrived_on) == route(alert, FEEDS, SCHEME, arrived_on)
    first, second = (router.route(decode_alert(json.dumps(m).encode())) for m in messages[:2])
    assert first is second
    for _ in range(2):
        with pytest.raises(MarkingError):
            router.route(decode_alert(json.dumps(make_alert(source="MK-CMC", tlp="PURPLE")).encode()))
