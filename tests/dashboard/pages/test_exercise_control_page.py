"""The control page renders the inject table only when the exercise changed (the countdowns tick in the
browser), a page of ``PAGE_SIZE`` injects at a time."""
from __future__ import annotations

from alerts.actions import exercises
from alerts.core.viewer import Viewer
from tests.conftest import add_user
from tests.dashboard.api.test_leaks import _web

PAGE_SIZE = 50  # dashboard.pages.exercises.PAGE_SIZE (a page module is imported only by the app)
INJECTS = 2 * PAGE_SIZE + 20


def _show(web, exercise_id: str, page: int, signature: str | None):
    spec = next(s for s in web.get("/_dash-dependencies").json() if "inject-table.children" in s["output"])
    outputs = [dict(zip(("id", "property"), o.rsplit(".", 1))) for o in spec["output"].strip(".").split("...")]
    values = {"exercise-select.value": exercise_id, "inject-page.value": page, "inject-table-sig.data": signature}
    value = lambda item: {**item, "value": values.get(f"{item['id']}.{item['property']}")}  # noqa: E731
    return web.post("/_dash-update-component", json={
        "output": spec["output"], "outputs": outputs, "inputs": [value(i) for i in spec["inputs"]],
        "state": [value(s) for s in spec["state"]], "changedPropIds": ["exercise-tick.n_intervals"]})


def _rows(table) -> int:
    return len(table["props"]["children"][1]["props"]["children"])


def test_ecp001_the_inject_table_is_sent_only_when_the_exercise_changes(app_server):
    user = add_user(app_server.services.settings.redis_url, app_server.prefix, "ecp-excon", "exercise_control", "RS")
    excon = Viewer(user.name, "exercise_control", "RS", via="session")
    centre = app_server.services.centre
    msel = "\n".join(["inject,offset,to,type,severity,title,lat,lon"] + [
        f"{n},{n}:00:00,RS,other,low,Inject {n},44.0,20.0" for n in range(1, INJECTS + 1)]).encode()
    ex = exercises.load(centre, excon, msel, "PAGED")
    exercises.start(centre, excon, ex.id)
    web = _web(app_server, user)

    first = _show(web, ex.id, 1, None)
    assert first.status_code == 200, first.text
    body = first.json()["response"]
    assert _rows(body["inject-table"]["children"]) == PAGE_SIZE
    assert body["inject-pages"]["children"] == "1 of 3"
    signature = body["inject-table-sig"]["data"]
    again = _show(web, ex.id, 1, signature)
    assert again.status_code == 204 or again.json()["response"] == {}  # unchanged: nothing rendered or sent
    last = _show(web, ex.id, 3, signature).json()["response"]
    assert _rows(last["inject-table"]["children"]) == 20
    exercises.skip(centre, excon, ex.id, 2)
    changed = _show(web, ex.id, 1, signature).json()["response"]       # changed: rendered again
    assert _rows(changed["inject-table"]["children"]) == PAGE_SIZE
    web.close()


def test_xcp020_long_unbroken_titles_wrap_in_the_inject_table():
    from pathlib import Path

    css = (Path(__file__).parents[3] / "assets" / "style.css").read_text()
    rule = next(line for line in css.splitlines() if line.startswith(".inject-table th, .inject-table td"))
    assert "overflow-wrap: anywhere" in rule
