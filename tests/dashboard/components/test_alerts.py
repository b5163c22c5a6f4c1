"""The selected alert's details: a CAP alert that carries an ``<info>`` in the viewer's language shows it."""
from __future__ import annotations

from datetime import UTC, datetime

from alerts import i18n
from alerts.core.markings import Classifications
from alerts.core.model import Placement, StoredAlert
from alerts.formats.decode import decode_alert
from dashboard.components.alerts import details_panel

CAP = """<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>GR-2026-0042</identifier><sender>civilprotection@example.gr</sender>
  <sent>2026-11-30T09:00:00+02:00</sent><status>Actual</status><msgType>Alert</msgType><scope>Public</scope>
  <info><language>en-US</language><category>Geo</category><event>Earthquake</event><urgency>Immediate</urgency>
    <severity>Severe</severity><certainty>Observed</certainty><headline>Strong earthquake near Thessaloniki</headline>
    <description>Magnitude 6.1.</description>
    <area><areaDesc>Thessaloniki</areaDesc><circle>40.64,22.94 10</circle></area></info>
  <info><language>el-GR</language><category>Geo</category><event>Σεισμός</event><urgency>Immediate</urgency>
    <severity>Severe</severity><certainty>Observed</certainty><headline>Ισχυρός σεισμός κοντά στη Θεσσαλονίκη</headline>
    <description>Μέγεθος 6,1.</description>
    <area><areaDesc>Θεσσαλονίκη</areaDesc><circle>40.64,22.94 10</circle></area></info>
</alert>"""


def _text(component) -> str:
    if isinstance(component, str):
        return component
    if isinstance(component, (list, tuple)):
        return " ".join(_text(c) for c in component)
    children = getattr(component, "children", None)
    return _text(children) if children is not None else ""


def _details(language: str) -> str:
    alert = decode_alert(CAP)
    stored = StoredAlert(alert=alert, placement=Placement(country="GR", countries=["GR"], regions=[]),
                         received_at=datetime.now(UTC), lon=22.94, lat=40.64)
    token = i18n.use(language)
    try:
        return _text(details_panel(stored, Classifications()))
    finally:
        i18n.reset(token)


def test_alc001_a_cap_alert_is_shown_in_the_viewer_language_when_it_carries_it():
    assert "Ισχυρός σεισμός κοντά στη Θεσσαλονίκη" in _details("el")
    assert "Μέγεθος 6,1." in _details("el")
    english = _details("en")
    assert "Strong earthquake near Thessaloniki" in english and "Ισχυρός" not in english
    assert "Strong earthquake near Thessaloniki" in _details("tr")  # not carried: the main block
