"""Dash's own HTML page speaks the request's language: ``<html lang>``, the document title (the page's own)
and the loading text, before any script runs."""
from __future__ import annotations

import httpx

from alerts import i18n
from tests.conftest import add_user


def test_apl001_the_served_page_has_the_language_title_and_loading_text_of_the_request(app_server):
    user = add_user(app_server.services.settings.redis_url, app_server.prefix, "apl-duty", "duty_officer", "RS")
    page = httpx.get(f"{app_server.url}/queue", headers={**user.headers, "Accept-Language": "el-GR"},
                     timeout=20).text
    greek = i18n.load("el").translations.gettext
    assert '<html lang="el">' in page
    assert f"<title>{greek('Response queue')} · {greek('Crisis dashboard')}</title>" in page
    assert "Loading..." not in page and greek("Loading…") in page
    english = httpx.get(f"{app_server.url}/queue", headers=user.headers, timeout=20).text
    assert '<html lang="en">' in english and "<title>Response queue · Crisis dashboard</title>" in english


def test_apl002_the_sitrep_speaks_the_user_language_and_shows_the_alert_words_it_carries(app_server):
    from alerts.store.accounts import Accounts
    from alerts.store.keys import Keys
    from tests.conftest import make_alert

    user = add_user(app_server.services.settings.redis_url, app_server.prefix, "apl-lead", "leadership", "RS")
    Accounts(app_server.services.client, Keys(app_server.prefix)).set_language(user.name, "hr")
    carried = make_alert(title="Flood warning EN", severity="critical", source="RS", releasable_to=["RS"],
                         language="en-US", translations={"hr": {"title": "Upozorenje HR", "description": ""}})
    drill = make_alert(title="Plume drill", severity="high", source="RS", releasable_to=["RS"], exercise=True)
    app_server.ingest(carried, drill)
    sitrep = httpx.get(f"{app_server.url}/api/v1/sitrep", params={"format": "md"}, headers=user.headers,
                       timeout=20).text
    croatian = i18n.load("hr").translations.gettext
    assert "Upozorenje HR" in sitrep and "Flood warning EN" not in sitrep
    assert f"{croatian('EXERCISE').upper()} Plume drill" in sitrep and "EXERCISE Plume drill" not in sitrep
