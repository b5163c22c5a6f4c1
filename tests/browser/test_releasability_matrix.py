"""The releasability matrix of issue 12 in a real headless Chromium: users of the matrix
(``tests/test_releasability_matrix.py``: three nations, two clearances, leadership, admins, an auditor, a
responder; ``DRAWING``: every role, clearance and nation) sign in once and open every page; the page (its text and its markup) and the map figure's
customdata hold exactly the markers of the alerts that user may see, and the banners the most restrictive
marking of them.

After the set-up, only browsers talk to this server (no bearer tokens), so the audit trail holds nothing but
the set-up's entries and sign-ins: the /audit page's markers are exactly the set-up's, per reader.
"""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import serve_in_process, sign_in
from tests.test_releasability_matrix import (
    BY_NAME,
    FEEDS_TOML,
    PEOPLE,
    SENTINEL_ALERT,
    Matrix,
    audit_markers,
    canon,
    markers,
    marking_for,
    request_markers,
    seed,
    unrouted_markers,
)

pytestmark = pytest.mark.browser

GRAPH = "#incident-map .js-plotly-plot"
BANNERS = ("#classification-top", "#classification-bottom")


@pytest.fixture(scope="module")
def seeded(redis_url, tmp_path_factory) -> Iterator[Matrix]:
    feeds = tmp_path_factory.mktemp("feeds") / "feeds.toml"
    feeds.write_text(FEEDS_TOML, encoding="utf-8")
    for server in serve_in_process(redis_url, feeds_file=feeds,
                                   escalation_minutes="critical=600,high=600,medium=600,low=600"):
        matrix = seed(server)
        yield matrix
        for client in matrix.clients.values():
            client.close()


def _seen(m: Matrix, name: str) -> list:
    person = BY_NAME[name]
    return [s for s in m.specs if s.visible_to(person.nation, person.clearance)]


def _page_markers(page) -> tuple[set[str], set[str]]:
    """Markers in what the page shows (its text) and in its whole markup (attributes included)."""
    return markers(page.inner_text("body")), markers(page.content())


def _banners(page) -> list[str]:
    return [page.inner_text(b).strip() for b in BANNERS]


def _check_banners(page, want, what: str) -> None:
    expected = canon(want.line())
    page.wait_for_function(
        "sels => sels.every(s => document.querySelector(s) && document.querySelector(s).innerText.trim())",
        arg=list(BANNERS), timeout=10_000)
    for banner in _banners(page):
        assert canon(banner) == expected, (what, banner, want.line())


def _map(page, m: Matrix, name: str) -> None:
    want, seen = m.visible(name), _seen(m, name)
    page.goto(f"{m.server.url}/")
    page.wait_for_function("() => document.body.dataset.live === 'open'", timeout=30_000)
    page.wait_for_function("n => document.querySelectorAll('#alert-list [data-alert-id]').length === n",
                           arg=len(seen) + 1, timeout=20_000)
    page.wait_for_function(f"() => {{ const g = document.querySelector('{GRAPH}'); return g && g.data && "
                           "g.data.some(t => (t.customdata || []).length); }", timeout=20_000)
    customdata = page.evaluate(f"() => document.querySelector('{GRAPH}').data"
                               ".flatMap(t => Array.from(t.customdata || []).map(String))")
    assert markers(" ".join(customdata)) == want, name
    figure = page.evaluate(f"() => JSON.stringify(document.querySelector('{GRAPH}').data)")
    assert markers(figure) == want, name  # hover texts of incidents and assets included
    listed = page.eval_on_selector_all("#alert-list [data-alert-id]", "els => els.map(e => e.dataset.alertId)")
    assert set(listed) == {m.ids[s.n] for s in seen} | {SENTINEL_ALERT}
    text, markup = _page_markers(page)
    assert text == markup == want, (name, text ^ want, markup ^ want)
    _check_banners(page, marking_for(seen), "map")


def _queue(page, m: Matrix, name: str) -> None:
    want, seen = m.visible(name), _seen(m, name)
    page.goto(f"{m.server.url}/queue")
    page.wait_for_function("n => document.querySelectorAll('.queue-item[data-alert-id]').length === n",
                           arg=len(seen) + 1, timeout=20_000)
    text, markup = _page_markers(page)
    assert text == markup == want, (name, text ^ want, markup ^ want)
    _check_banners(page, marking_for(seen), "queue")


def _situation(page, m: Matrix, name: str) -> None:
    want, seen = m.visible(name), _seen(m, name)
    page.goto(f"{m.server.url}/situation")
    page.wait_for_selector("#sit-open-table", timeout=30_000)
    page.wait_for_function("n => document.querySelectorAll('#sit-open-table tbody tr').length === n",
                           arg=len(seen), timeout=20_000)
    assert page.inner_text("#tile-high").strip() == str(len(want))
    text, markup = _page_markers(page)
    assert text == markup == want, (name, text ^ want, markup ^ want)
    _check_banners(page, marking_for(seen), "situation")


def _sharing(page, m: Matrix, name: str) -> None:
    want = request_markers(m, name) | unrouted_markers(m, name)
    page.goto(f"{m.server.url}/sharing")
    page.wait_for_selector("#sharing-requests > *", timeout=20_000)
    if BY_NAME[name].role == "admin":
        page.wait_for_selector("#unrouted-list > *", timeout=20_000)
        rows = page.eval_on_selector_all(".unrouted-table [data-alert-id]", "els => els.map(e => e.dataset.alertId)")
        assert markers(" ".join(rows)) == unrouted_markers(m, name)
    text, markup = _page_markers(page)
    assert text == markup == want, (name, text ^ want, markup ^ want)
    if want:  # the banner covers every alert the page quotes: requests and unrouted rows alike
        _check_banners(page, marking_for([s for s in m.specs if s.marker in want]), "sharing")


def _audit(page, m: Matrix, name: str) -> None:
    page.goto(f"{m.server.url}/audit")
    page.wait_for_selector("#audit-table", timeout=20_000)
    text, markup = _page_markers(page)
    assert text == markup == audit_markers(m, name), (name, text, markup)


#: Which pages each role opens (everyone may view the map, the queue and the situation).
PAGES = {"duty_officer": (_map, _queue, _situation, _sharing), "responder": (_map, _queue, _situation),
         "leadership": (_map, _queue, _situation), "admin": (_map, _queue, _situation, _sharing, _audit),
         "auditor": (_map, _queue, _situation, _audit)}


#: Who draws the pages: every role, every clearance, every nation (a duty officer of each, the two clearances
#: between them). The pages filter by the viewer's nation and clearance alike for every nation, so the other
#: duty officers of the matrix add nothing a page could get wrong; every user of the matrix is checked on every
#: API route by ``tests/test_releasability_matrix.py``.
DRAWING = ("do-rs-c", "do-mk-u", "do-hr-c", "lead-hr-c", "resp-mk-c", "admin-rs-s", "admin-mk-u", "aud-hr-u")


def test_rmb000_the_users_drawing_cover_every_role_clearance_and_nation():
    drawing = [BY_NAME[name] for name in DRAWING]
    for part in ("role", "clearance", "nation"):
        assert {getattr(p, part) for p in drawing} == {getattr(p, part) for p in PEOPLE}, part


@pytest.mark.parametrize("name", DRAWING)
def test_rmb001_every_page_shows_each_user_exactly_what_it_may_see(seeded, browser, name):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:
        sign_in(page, seeded.server.url, seeded.users[name], "/queue")
        for visit in PAGES[BY_NAME[name].role]:
            visit(page, seeded, name)
        if BY_NAME[name].role not in ("admin", "auditor"):  # the audit page is refused, naming nothing
            page.goto(f"{seeded.server.url}/audit")
            page.wait_for_selector(".denied", timeout=20_000)
            assert not any(_page_markers(page))
    finally:
        context.close()
