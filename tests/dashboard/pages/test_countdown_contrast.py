"""The countdowns' warning colours (``assets/style.css``) keep WCAG 2.2 AA contrast (4.5:1 for text) on every
background a countdown is drawn on. axe-core (``tests/browser/test_accessibility``) meets ``.soon`` only when an
alert is within a minute of its deadline, which a slow run reached (a11y002 failed on the queue); this checks
the colours themselves, whatever the clock."""
from __future__ import annotations

import re

import pytest

from tests.conftest import ROOT

STYLE = (ROOT / "assets" / "style.css").read_text(encoding="utf-8")
#: The backgrounds a countdown sits on: a queue item (and its pulse), the exercises' table on the page.
BACKGROUNDS = ("#ffffff", "#fde0e0", "#f6f7f9")


def _colour(selector: str) -> str:
    found = re.search(re.escape(selector) + r"\s*\{[^}]*?\bcolor:\s*(#[0-9a-fA-F]{6})", STYLE)
    assert found, f"no colour for {selector} in style.css"
    return found.group(1)


def _luminance(hex_colour: str) -> float:
    """WCAG 2.2 relative luminance of ``#rrggbb``."""
    channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _contrast(a: str, b: str) -> float:
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


@pytest.mark.parametrize("selector", [".countdown.soon", ".countdown.overdue"])
def test_cdc001_countdown_warning_colours_have_aa_contrast(selector):
    colour = _colour(selector)
    for background in BACKGROUNDS:
        assert _contrast(colour, background) >= 4.5, (selector, colour, background, _contrast(colour, background))
