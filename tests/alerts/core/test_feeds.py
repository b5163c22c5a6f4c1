"""The feed registry: the file format, its validation at start-up, and which feed a message comes from."""
from __future__ import annotations

from pathlib import Path

import pytest

from alerts.core.feeds import FeedFileError, FeedRegistry, Origin
from alerts.core.markings import Tlp
from tests.conftest import ROOT

EXAMPLE = ROOT / "docs" / "feeds.example.toml"


def registry(text: str) -> FeedRegistry:
    return FeedRegistry.parse(text, "feeds.toml")


def test_fed001_the_example_file_in_the_repo_is_valid_and_documented():
    feeds = FeedRegistry.load(EXAMPLE)
    assert len(feeds) >= 4
    rs = feeds.get("rs-interior-ministry")
    assert rs.nation == "RS" and rs.classification == "RESTRICTED" and rs.tlp is Tlp.AMBER
    assert feeds.match(Origin("cap", cap_sender="duty@police.mup.gov.rs")) is rs


@pytest.mark.parametrize(("sender", "feed"), [
    ("alerts@mup.gov.rs", "exact"),
    ("ALERTS@MUP.GOV.RS", "exact"),
    ("other@mup.gov.rs", "mup"),
    ("x@sub.mup.gov.rs", "mup"),
    ("https://feeds.gov.rs/cap", "gov"),
    ("x@evilmup.gov.rs", "gov"),  # *.mup.gov.rs is a domain, not a suffix of any name
    ("x@gov.rs.example.com", None),
    ("mup.gov.rs", "mup"),
])
def test_fed002_cap_sender_exact_beats_domain_and_the_longest_domain_wins(sender, feed):
    feeds = registry("""
[[feeds]]
name = "gov"
nation = "RS"
releasable_to = ["RS"]
cap_sender = "*.gov.rs"
[[feeds]]
name = "mup"
nation = "RS"
releasable_to = ["RS", "BA"]
cap_sender = "*.mup.gov.rs"
[[feeds]]
name = "exact"
nation = "RS"
releasable_to = ["ALL"]
cap_sender = ["alerts@mup.gov.rs"]
""")
    found = feeds.match(Origin("cap", cap_sender=sender))
    assert (found.name if found else None) == feed


def test_fed003_cot_uid_prefix_before_callsign_and_longest_prefix():
    feeds = registry("""
[[feeds]]
name = "ba"
nation = "BA"
releasable_to = ["BA"]
cot_uid_prefix = "BIH-"
[[feeds]]
name = "ba-sof"
nation = "BA"
releasable_to = ["BA"]
cot_uid_prefix = "BIH-SOF-"
[[feeds]]
name = "hr-callsigns"
nation = "HR"
releasable_to = ["HR"]
cot_callsign_prefix = "CRO "
""")
    assert feeds.match(Origin("cot", cot_uid="BIH-SOF-1", cot_callsign="CRO 1")).name == "ba-sof"
    assert feeds.match(Origin("cot", cot_uid="BIH-7")).name == "ba"
    assert feeds.match(Origin("cot", cot_uid="ANDROID-1", cot_callsign="CRO 1")).name == "hr-callsigns"
    assert feeds.match(Origin("cot", cot_uid="ANDROID-1", cot_callsign="All")) is None
    assert feeds.match(Origin("json", source="BIH-SOF-1")) is None  # a uid rule never matches another format


def test_fed004_the_feed_nation_is_always_released_to():
    feeds = registry('[[feeds]]\nname = "x"\nnation = "rs"\nreleasable_to = ["BA"]\nsource = "RS-X"\n')
    assert feeds.get("x").releasable_to == ["RS", "BA"]


@pytest.mark.parametrize(("text", "names"), [
    ("[[feeds]]\nname = 'a'\nnation = 'RS'\nreleasable_to = ['RS']\n", "at least one of cap_sender"),
    ("[[feeds]]\nname = 'a'\nnation = 'ZZ'\nreleasable_to = ['RS']\nsource = 's'\n", "feeds['a']: nation"),
    ("[[feeds]]\nname = 'a'\nnation = 'RS'\nreleasable_to = ['Serbia']\nsource = 's'\n", "releasable_to"),
    ("[[feeds]]\nname = 'a'\nnation = 'RS'\nreleasable_to = []\nsource = 's'\n", "releasable_to"),
    ("[[feeds]]\nname = 'a'\nnation = 'RS'\nreleasable_to = ['RS']\nsource = 's'\nclassification = 'TOP SECRET'\n",
     "classification"),
    ("[[feeds]]\nname = 'a'\nnation = 'RS'\nreleasable_to = ['RS']\nsource = 's'\ntlp = 'PURPLE'\n", "tlp"),
    ("[[feeds]]\nname = 'a'\nnation = 'RS'\nreleasable_to = ['RS']\ncap_sender = '*.'\n", "cap_sender"),
    ("[[feeds]]\nname = 'a'\nnation = 'RS'\nreleasable_to = ['RS']\nsource = ''\n", "source"),
    ("[[feeds]]\nname = 'a'\nnation = 'RS'\nreleasable_to = ['RS']\nsource = 's'\ncolour = 'red'\n", "colour"),
    ("[[feeds]]\nname = 'a'\nnation = 'RS'\nreleasable_to = ['RS']\nsource = 's'\n"
     "[[feeds]]\nname = 'b'\nnation = 'HR'\nreleasable_to = ['HR']\nsource = 's'\n", "source 's' is claimed"),
    ("[[feeds]]\nname = 'a'\nnation = 'RS'\nreleasable_to = ['RS']\nsource = 's'\n"
     "[[feeds]]\nname = 'a'\nnation = 'HR'\nreleasable_to = ['HR']\nsource = 't'\n", "used by two feeds"),
    ("[[feeds]]\nname = 'a'\nnation = 'RS'\nreleasable_to = ['RS']\nsource = 's'\nrelayed_by = 'b'\n",
     "feed 'a': relayed_by names 'b', no feed"),
    ("[[feeds]]\nname = 'a'\nnation = 'RS'\nreleasable_to = ['RS']\nsource = 's'\nrelayed_by = 'b'\n"
     "[[feeds]]\nname = 'b'\nnation = 'HR'\nreleasable_to = ['HR']\nsource = 't'\n", "a feed that is not a relay"),
    ("[[feeds]]\nname = 'a'\nnation = 'RS'\nreleasable_to = ['RS']\nsource = 's'\nrelayed_by = 'b'\nrelay = true\n"
     "[[feeds]]\nname = 'b'\nnation = 'HR'\nreleasable_to = ['HR']\nsource = 't'\nrelay = true\n",
     "relayed_by is itself a relay"),
    ("[feeds]\nname = 'a'\n", "[[feeds]]"),
    ("[[feeds]\n", "not valid TOML"),
])
def test_fed005_a_bad_file_is_refused_naming_the_file_and_field(text, names):
    with pytest.raises(FeedFileError) as error:
        registry(text)
    assert str(error.value).startswith("feeds.toml: ")
    assert names in str(error.value)


def test_fed006_serve_stops_on_a_bad_registry_naming_file_and_field(tmp_path: Path):
    import subprocess
    import sys

    bad = tmp_path / "feeds.toml"
    bad.write_text("[[feeds]]\nname = 'a'\nnation = 'RS'\nreleasable_to = ['RS']\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "dashboard.cli", "serve", "--redis-url", "redis://127.0.0.1:1"],
                          cwd=ROOT, env={"CRISIS_FEEDS": str(bad), "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "bad feed registry: feeds.toml: feeds[0]" in done.stderr or "feeds['a']" in done.stderr, done.stderr
    missing = subprocess.run([sys.executable, "-m", "dashboard.cli", "ingest", "--redis-url", "redis://127.0.0.1:1"],
                             cwd=ROOT, env={"CRISIS_FEEDS": str(tmp_path / "none.toml"), "PATH": "/usr/bin:/bin"},
                             capture_output=True, text=True, timeout=60)
    assert "bad feed registry: none.toml: cannot read" in missing.stderr, missing.stderr


def test_fed007_outbound_is_off_unless_asked_and_the_clearance_must_be_a_level():
    base = '[[feeds]]\nname = "ba"\nnation = "BA"\nreleasable_to = "BA"\ncot_uid_prefix = "BA-"\n'
    assert FeedRegistry.parse(base, "f.toml").get("ba").outbound is False
    feed = FeedRegistry.parse(base + 'outbound = true\nclearance = "RESTRICTED"\n', "f.toml").get("ba")
    assert feed.outbound is True and feed.clearance == "RESTRICTED"
    with pytest.raises(FeedFileError, match=r"f.toml: feed 'ba': clearance"):
        FeedRegistry.parse(base + 'outbound = true\nclearance = "COSMIC"\n', "f.toml")
