"""The classification banners in headless Chromium: the most restrictive marking on screen, rising live.

Each test works with its own nation's alerts, so the REL TO part of the
banner is exactly what that test put on screen (alerts released to all, from
other tests, restrict nothing and are the lowest level).
"""
from __future__ import annotations

import json
from urllib.parse import quote

import pytest
import redis

from alerts.store.keys import Keys
from alerts.store.producer import send_to_stream
from tests.conftest import add_user, make_alert, payload, sign_in, wait_for

pytestmark = pytest.mark.browser

TOP, BOTTOM = "#classification-top", "#classification-bottom"


def _banner_reads(page, text: str, timeout: int = 15_000) -> None:
    """Wait until both banners read ``text``."""
    page.wait_for_function(
        "([top, bottom, text]) => [top, bottom].every(s => { const b = document.querySelector(s);"
        " return b && b.innerText.trim() === text; })", arg=[TOP, BOTTOM, text], timeout=timeout)


def _publish(server, *alerts: dict) -> None:
    send_to_stream(redis.Redis.from_url(server.redis_url), Keys(server.prefix), [payload(a) for a in alerts])


def test_bnr001_the_sign_in_page_shows_the_lowest_level(server, page):
    page.goto(f"{server.url}/login")
    banners = page.locator(".classification")
    assert banners.count() == 2
    for i in range(2):
        assert banners.nth(i).inner_text() == "UNCLASSIFIED"
        assert "marking-level-0" in banners.nth(i).get_attribute("class")


def test_bnr002_the_map_banner_rises_live_to_the_most_restrictive_alert(server, page):
    officer = add_user(server.redis_url, server.prefix, "bnr-si", "duty_officer", "SI", clearance="SECRET")
    first = make_alert(title="Green first", source="SI", releasable_to=["SI", "HR"], tlp="GREEN")
    _publish(server, first)
    wait_for(lambda: first["id"] in server.alert_ids(officer), what="the first alert")
    sign_in(page, server.url, officer)
    page.wait_for_function("() => document.body.dataset.live === 'open'", timeout=20_000)
    _banner_reads(page, "UNCLASSIFIED//REL TO SI, HR TLP:GREEN")
    assert "marking-level-0" in page.get_attribute(TOP, "class")

    confidential = make_alert(id="bnr 002/conf", title="Confidential arrives", source="SI", releasable_to=["SI", "HR"],
                              classification="CONFIDENTIAL", caveats=["FOUO"], tlp="AMBER")
    page.evaluate("window.__notReloaded = true")
    _publish(server, confidential)
    _banner_reads(page, "CONFIDENTIAL//FOUO//REL TO SI, HR TLP:AMBER")
    assert page.evaluate("window.__notReloaded") is True  # risen live, not by a reload
    for banner in (TOP, BOTTOM):
        assert "marking-level-2" in page.get_attribute(banner, "class")
        assert page.get_attribute(f"{banner} .tlp", "class") == "tlp tlp-amber"
    item = page.locator(f'[data-alert-id="{confidential["id"]}"]')
    assert json.loads(item.get_attribute("data-marking"))["classification"] == "CONFIDENTIAL"
    assert "CONFIDENTIAL//FOUO//REL TO SI, HR TLP:AMBER" in item.inner_text()

    secret = make_alert(title="Secret, unlocated", source="SI", releasable_to=["SI"], classification="SECRET",
                        location=None)
    _publish(server, secret)
    _banner_reads(page, "SECRET//FOUO//REL TO SI TLP:AMBER")  # highest level, every caveat, common nations only
    assert "marking-level-3" in page.get_attribute(TOP, "class")

    item.click()
    page.wait_for_selector("#details-card")
    assert page.inner_text("#details-marking") == "CONFIDENTIAL//FOUO//REL TO SI, HR TLP:AMBER"
    assert json.loads(page.get_attribute("#details-card", "data-marking"))["tlp"] == "AMBER"
    link = page.locator("#releasability-link")
    assert link.inner_text() == "Releasability…"
    assert link.get_attribute("href") == f"/sharing?alert={quote(confidential['id'], safe='')}"


def test_bnr003_the_queue_banner_covers_its_rows_and_rises_with_a_new_one(server, page):
    officer = add_user(server.redis_url, server.prefix, "bnr-me", "duty_officer", "ME", clearance="CONFIDENTIAL")
    restricted = make_alert(title="Restricted row", source="ME", releasable_to=["ME"], classification="RESTRICTED",
                            tlp="RED")
    _publish(server, restricted)
    wait_for(lambda: restricted["id"] in server.alert_ids(officer), what="the restricted alert")
    sign_in(page, server.url, officer, path="/queue")
    page.wait_for_selector(f'.queue-item[data-alert-id="{restricted["id"]}"]', timeout=20_000)
    _banner_reads(page, "RESTRICTED//REL TO ME TLP:RED")
    assert "marking-level-1" in page.get_attribute(BOTTOM, "class")
    confidential = make_alert(title="Confidential row", source="ME", releasable_to=["ME"],
                              classification="CONFIDENTIAL")
    _publish(server, confidential)
    page.wait_for_selector(f'.queue-item[data-alert-id="{confidential["id"]}"]', timeout=20_000)
    _banner_reads(page, "CONFIDENTIAL//REL TO ME TLP:RED")
    row = page.locator(f'.queue-item[data-alert-id="{confidential["id"]}"]')
    assert json.loads(row.get_attribute("data-marking"))["classification"] == "CONFIDENTIAL"


def test_bnr004_the_situation_banner_covers_its_aggregated_figures(server, page):
    leader = add_user(server.redis_url, server.prefix, "bnr-ba", "leadership", "BA", clearance="CONFIDENTIAL")
    counted = make_alert(title="Counted, not listed", severity="low", source="BA", releasable_to=["BA"],
                         classification="CONFIDENTIAL", caveats=["EXERCISE ONLY"], tlp="AMBER+STRICT")
    _publish(server, counted)
    wait_for(lambda: counted["id"] in server.alert_ids(leader), what="the counted alert")
    sign_in(page, server.url, leader, path="/situation")
    page.wait_for_selector("#sit-open-table", timeout=30_000)
    assert counted["title"] not in page.inner_text("#sit-open-table")  # low severity: only in the tiles
    _banner_reads(page, "CONFIDENTIAL//EXERCISE ONLY//REL TO BA TLP:AMBER+STRICT")
    assert page.get_attribute(f"{TOP} .tlp", "class") == "tlp tlp-amber-strict"
    assert json.loads(page.get_attribute("#sit-marking", "data-marking"))["classification"] == "CONFIDENTIAL"
