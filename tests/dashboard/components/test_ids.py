"""Component ids and trace indices are spelled once, in Python; the page scripts read them from the page."""
from __future__ import annotations

import re

from dashboard.components import ids
from layers.traces import MAP_TRACES, trace_indices
from tests.conftest import ROOT

SCRIPTS = sorted((ROOT / "assets").glob("*.js"))


def test_ids001_no_script_spells_a_component_id_or_a_trace_index():
    contract = ids.page_contract()
    assert len(SCRIPTS) >= 4
    for path in SCRIPTS:
        text = path.read_text(encoding="utf-8")
        for name in contract["ids"].values():
            assert f'"{name}"' not in text and f"'{name}'" not in text and f"#{name}" not in text, (path.name, name)
        assert not re.search(r'\["data",\s*\d', text), path.name  # a trace by number
        assert not re.search(r"\b(RING|DOT|LIVE_RING|LIVE_CORE)\s*=\s*\d", text), path.name


def test_ids002_the_contract_names_every_trace_in_drawing_order():
    traces = ids.page_contract()["traces"]
    assert traces == trace_indices()
    assert [name for name, _ in sorted(traces.items(), key=lambda kv: kv[1])] == [
        t.replace(" ", "_") for t in MAP_TRACES]
    assert ids.page_contract()["listLimit"] == ids.LIST_LIMIT


def test_ids003_the_asset_id_prefix_comes_from_the_contract():
    """``assets_live.js`` spelled ``"asset:"`` itself; it reads ``assetPrefix`` from the page like the ids."""
    from layers.assets import ASSET_PREFIX

    assert ids.page_contract()["assetPrefix"] == ASSET_PREFIX
    for path in SCRIPTS:
        text = path.read_text(encoding="utf-8")
        assert f'"{ASSET_PREFIX}"' not in text and f"'{ASSET_PREFIX}'" not in text, path.name
    assert "assetPrefix" in (ROOT / "assets" / "assets_live.js").read_text(encoding="utf-8")


def test_ids004_one_script_reads_the_page_contract():
    """``contract.js`` is the one reader of the contract element; every other script asks it."""
    readers = [p.name for p in SCRIPTS if f'"{ids.CONTRACT}"' in p.read_text(encoding="utf-8")]
    assert readers == ["contract.js"]
    for path in SCRIPTS:
        text = path.read_text(encoding="utf-8")
        if "pageContract" in text or "ids()" in text:
            assert "crisisContract" in text or path.name == "contract.js", path.name
