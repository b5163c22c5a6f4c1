"""Every Dash callback, posted directly with input of the wrong shape, answers without a 500 (and logs it).

The class: a callback trusts the shape of what the renderer sends (``selected-alert.data`` a dict, a map
click's ``customdata`` a string); anyone can post anything. Each callback of the app is posted with each
odd value in every input and state, by a signed-in responder (the least rights: nothing it may change).
"""
from __future__ import annotations

import pytest

from tests.conftest import add_user
from tests.dashboard.api.test_leaks import _web

ODD_VALUES = ["x", ["a", {"b": 1}], {"points": [{"customdata": ["q"], "curveNumber": "z"}], "id": ["y"]}, 1e308,
              -1, True]


@pytest.fixture(scope="module")
def responder(app_server):
    return add_user(app_server.services.settings.redis_url, app_server.prefix, "cbe-resp", "responder", "RS")


def test_cbe001_no_callback_answers_500_to_input_of_the_wrong_shape(app_server, responder):
    web = _web(app_server, responder)
    specs = [s for s in web.get("/_dash-dependencies").json() if not s.get("clientside_function")]
    assert len(specs) > 20  # the server's callbacks (clientside ones run in the browser only)
    failures = []
    for spec in specs:
        outputs = [dict(zip(("id", "property"), o.split("@")[0].rsplit(".", 1)))
                   for o in spec["output"].strip(".").split("...")]
        for odd in ODD_VALUES:
            body = {"output": spec["output"], "outputs": outputs if len(outputs) > 1 else outputs[0],
                    "inputs": [{**i, "value": odd} for i in spec["inputs"]],
                    "state": [{**s, "value": odd} for s in spec["state"]],
                    "changedPropIds": [f"{i['id']}.{i['property']}" for i in spec["inputs"][:1]]}
            response = web.post("/_dash-update-component", json=body)
            if response.status_code >= 500:
                failures.append((spec["output"][:60], repr(odd)[:30], response.status_code))
    web.close()
    assert failures == [], "\n".join(map(str, failures))
