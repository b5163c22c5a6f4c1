"""Joint exercises in a real headless Chromium: exercise control loads a MSEL on the control page, starts play
and fires an inject; a participating duty officer sees the EXERCISE band on every page and the inject arrive
live on the map styled as exercise; another nation sees neither; the real-world stop is announced on the
officer's open page within seconds, and once on the page of a nation that does not play. Exercise control
works from a phone-width screen (390 x 844)."""
from __future__ import annotations

import pytest

from tests.browser.test_map_live import _wait_live
from tests.conftest import add_user, sign_in

pytestmark = pytest.mark.browser

MSEL = """inject,offset,to,type,severity,title,lat,lon,expected_action
1,2:00:00,RS,natural_disaster,critical,Earthquake felt in Kraljevo,43.72,20.69,acknowledge within 5m
2,3:00:00,RS;HR,hazmat,high,Chlorine release on the Sava,44.9,19.5,
"""
BAND = "#exercise-band"


@pytest.fixture(scope="module")
def people(server):
    specs = [("excon", "exercise_control", "RS"), ("duty-rs", "duty_officer", "RS"), ("duty-gr", "duty_officer", "GR")]
    return {name: add_user(server.redis_url, server.prefix, name, role, nation) for name, role, nation in specs}


def test_exb001_play_on_the_live_picture_with_the_band_on_every_page(server, people, browser, tmp_path):
    msel = tmp_path / "seismic.csv"
    msel.write_text(MSEL, encoding="utf-8")
    contexts = [browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True),
                *(browser.new_context(viewport={"width": 1400, "height": 1000}) for _ in range(2))]
    excon, officer, other = (c.new_page() for c in contexts)  # exercise control runs play from a phone
    try:
        sign_in(officer, server.url, people["duty-rs"])
        _wait_live(officer)
        sign_in(other, server.url, people["duty-gr"])
        assert officer.is_hidden(BAND)

        sign_in(excon, server.url, people["excon"], "/exercises")
        excon.set_input_files("#msel-upload input[type=file]", str(msel))
        excon.fill("#msel-name", "SEISMIC SHIELD")
        excon.click("#msel-load")
        excon.wait_for_selector("#msel-message:has-text('Loaded SEISMIC SHIELD: 2 injects')", timeout=15_000)
        excon.wait_for_selector("#exercise-status [data-state='planned']", timeout=15_000)
        excon.click("button:has-text('Start')")
        excon.wait_for_selector("#exercise-status [data-state='running']", timeout=15_000)

        officer.wait_for_selector(f"{BAND}:has-text('EXERCISE SEISMIC SHIELD')", timeout=10_000)
        excon.wait_for_selector(f"{BAND}:has-text('EXERCISE SEISMIC SHIELD')", timeout=10_000)
        _usable_at_phone_width(excon)
        excon.click("tr[data-inject='1'] button:has-text('Fire now')")
        excon.wait_for_selector("tr[data-inject='1'].inject-fired", timeout=15_000)

        item = officer.wait_for_selector("#alert-list .alert-item.exercise:has-text('Earthquake felt in Kraljevo')",
                                         timeout=15_000)  # arrived live, styled as exercise
        assert "EXERCISE" in item.inner_text()
        for path in ("/queue", "/situation", "/sharing"):
            officer.goto(f"{server.url}{path}")
            officer.wait_for_selector(f"{BAND}:has-text('EXERCISE SEISMIC SHIELD')", timeout=10_000)
            classification = officer.inner_text("#classification-top")
            assert classification.strip() and "EXERCISE" not in classification  # beside the marking, not instead
        for path in ("/", "/queue"):
            other.goto(f"{server.url}{path}")
            other.wait_for_selector("#whoami")
            assert other.is_hidden(BAND) and "SEISMIC" not in other.inner_text("body")
        other.goto(f"{server.url}/exercises")
        other.wait_for_selector(".denied")

        officer.goto(f"{server.url}/")
        _wait_live(officer)
        excon.fill("#stop-reason", "M6.4 earthquake near Skopje")
        excon.once("dialog", lambda dialog: dialog.accept())
        excon.click("button:has-text('STOP ALL EXERCISES')")
        officer.wait_for_selector(f"{BAND}.stopped:has-text('REAL-WORLD STOP: M6.4 earthquake near Skopje')",
                                  timeout=10_000)
        other.wait_for_selector(f"{BAND}.stopped:has-text('EXERCISE PLAY STOPPED')", timeout=10_000)  # not a player
        assert "SEISMIC" not in other.inner_text(BAND)
        excon.wait_for_selector("#exercise-status [data-state='ended']", timeout=15_000)
        excon.wait_for_selector(f"{BAND}.stopped", timeout=10_000)
        assert excon.inner_text(BAND).count("REAL-WORLD STOP") == 1
    finally:
        for context in contexts:
            context.close()


def _usable_at_phone_width(page) -> None:
    """At 390 px: no sideways scrolling of the page (the inject table scrolls in its own box), the band and the
    controls inside the screen, the buttons big enough to tap."""
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    for selector in (BAND, "button:has-text('Pause')", "button:has-text('STOP ALL EXERCISES')",
                     "tr[data-inject='1'] button:has-text('Fire now')"):
        page.locator(selector).scroll_into_view_if_needed()
        box = page.locator(selector).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, (selector, box)
        if selector != BAND:
            assert box["height"] >= 30, (selector, box)
