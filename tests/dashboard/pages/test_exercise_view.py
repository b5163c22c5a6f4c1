"""The real/exercise switch starts at "real only" for leadership (never play taken for reality in a
briefing) and at "all" for the others, on the map and the situation page; it stays switchable."""
from __future__ import annotations

import pytest

from tests.conftest import add_user
from tests.dashboard.api.test_leaks import _callback, _web


def _value_of(tree, component_id):
    if isinstance(tree, dict):
        props = tree.get("props", {})
        if props.get("id") == component_id:
            return props
        for value in (*tree.values(),):
            found = _value_of(value, component_id)
            if found is not None:
                return found
    elif isinstance(tree, list):
        for value in tree:
            found = _value_of(value, component_id)
            if found is not None:
                return found
    return None


@pytest.mark.parametrize(("role", "expected"), [("leadership", "real"), ("duty_officer", "all")])
def test_exv001_leadership_starts_on_real_only(app_server, role, expected):
    user = add_user(app_server.services.settings.redis_url, app_server.prefix, f"exv-{role}", role, "RS")
    web = _web(app_server, user)
    for path, switch in (("/", "filter-exercise"), ("/situation", "sit-exercise")):
        page = _callback(web, "_pages_content", {"_pages_location.pathname": path, "_pages_location.search": ""},
                         "_pages_location.pathname")
        props = _value_of(page, switch)
        assert props["value"] == expected, (path, props)
        assert {o["value"] for o in props["options"]} >= {"all", "real", "exercise"}  # switchable
    web.close()
