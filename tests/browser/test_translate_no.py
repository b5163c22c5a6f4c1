"""Content never translated (``dashboard.components.language.UNTRANSLATED``: ``data-translate="no"``) also carries
HTML's own ``translate="no"`` (``assets/a11y.js``), on the page as drawn and on elements drawn later, so a
browser's page translator leaves it alone."""
from __future__ import annotations

import pytest

from tests.conftest import sign_in

pytestmark = pytest.mark.browser

UNMARKED = "() => document.querySelectorAll('[data-translate=\"no\"]:not([translate=\"no\"])').length"


def test_trn001_untranslated_content_gets_translate_no_now_and_later(server, users, page):
    sign_in(page, server.url, users["duty-rs"])
    page.wait_for_selector("#whoami[translate='no']")
    assert page.evaluate("() => document.querySelectorAll('[data-translate=\"no\"]').length") >= 3
    page.wait_for_function(f"() => ({UNMARKED})() === 0", timeout=5_000)
    page.evaluate("""() => { const s = document.createElement('span'); s.id = 'late-content';
                             s.setAttribute('data-translate', 'no'); s.textContent = 'Drill alarm';
                             document.body.appendChild(s); }""")
    page.wait_for_selector("#late-content[translate='no']", state="attached", timeout=5_000)
