"""The queue's critical banner marks exercise alerts EXERCISE, as every other view of them does."""
from __future__ import annotations

from alerts.core.model import Alert
from dashboard.components.alerts import critical_banner
from tests.conftest import make_alert


def _entry(id_: str, title: str, exercise: bool) -> Alert:
    return Alert.model_validate(make_alert(id=id_, title=title, severity="critical", exercise=exercise))


def _text(node) -> str:
    if node is None:
        return ""
    if isinstance(node, str):
        return node
    if isinstance(node, list):
        return "".join(_text(n) for n in node)
    return _text(getattr(node, "children", None))


def test_qbn001_the_critical_banner_says_exercise():
    children = critical_banner([_entry("x1", "Dam overflow", True)])
    assert _text(children).startswith("1 critical EXERCISE alert awaiting acknowledgment: EXERCISE Dam overflow")
    mixed = critical_banner([_entry("r1", "Real flood", False), _entry("x2", "Drill fire", True)])
    assert "2 critical alerts (1 EXERCISE) awaiting" in _text(mixed)
    assert "Real flood; EXERCISE Drill fire" in _text(mixed)
