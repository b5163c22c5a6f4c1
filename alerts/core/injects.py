"""A fired inject as the alert it plays: our JSON document, marked as exercise, released to its ``to`` nations.

The document goes to the durable inbox stream like any producer's message, so the inject is decoded,
routed, placed, checklisted, escalated and pushed exactly like real traffic (HSEEP: injects reach the
training audience through their normal channels). What marks it is never left to the message:

- ``exercise: true``, ``exercise_id`` and ``inject`` (the MSEL number), whatever a payload said;
- one alert **per ``to`` nation**, releasable to that nation only (a payload's own releasability is
  replaced): each national operations centre gets its own copy to acknowledge, task and resolve, so one
  nation's action is never credited to, nor blocks, another (HSEEP: each training audience is evaluated
  on its own);
- ``id``: ``<exercise id>.inject-<n>.<ISO2>``, so a repeated send is a duplicate, never a second alert;
- ``source``: the MSEL ``from`` column (a nation code there makes that nation the reporting nation).

Only the scheduler's injects carry these marks into the record: its inbox entries are signed
(``alerts.store.inject_marks``); any other message loses ``exercise_id`` and ``inject`` (``unmarked``),
and one using the reserved id form ``<exercise>.inject-<n>.<ISO2>`` is refused.

A ``payload`` message (CAP, CoT or our JSON) is decoded by the caller with the live decoders; its type,
severity, texts, place and markings are kept, its CAP/CoT-only fields travel under ``producer_fields``
(``Alert.portable``), and the marks above are applied on top.

Domain core: no Redis, no Dash.
"""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from alerts.core.exercises import Exercise, Inject
from alerts.core.model import Alert, Status, StoredAlert


def inject_alert_id(exercise_id: str, number: int, nation: str) -> str:
    """The id of the alert inject ``number`` of ``exercise_id`` plays for ``nation`` (ISO2), e.g.
    ``"ex-7.inject-12.RS"``."""
    return f"{exercise_id}.inject-{number}.{nation}"


#: The form of an inject's alert id; reserved for the exercise scheduler (``alerts.ingest.alerts``).
_INJECT_ID = re.compile(r"^[A-Za-z0-9_.-]+\.inject-\d+\.[A-Z]{2}$")


def is_inject_alert_id(alert_id: str) -> bool:
    """Whether ``alert_id`` has the reserved form ``<exercise>.inject-<n>.<ISO2>``."""
    return bool(_INJECT_ID.match(alert_id))


def unmarked(alert: Alert) -> Alert:
    """``alert`` as a producer's message (not the scheduler's) is taken: still an exercise alert if it says
    so (CAP ``status=Exercise``, our ``exercise: true``), but no exercise's inject: ``exercise_id`` and
    ``inject`` are dropped, so nothing a producer claims is scored or controlled as an inject."""
    if alert.exercise_id is None and alert.inject is None:
        return alert
    return alert.model_copy(update={"exercise_id": None, "inject": None})


def inject_alert_ids(exercise_id: str, inject: Inject, nations: tuple[str, ...] | None = None) -> dict[str, str]:
    """``nation -> alert id`` of every alert ``inject`` plays (one per ``to`` nation, in MSEL order; or per
    nation of ``nations``)."""
    return {nation: inject_alert_id(exercise_id, inject.number, nation) for nation in nations or inject.to}


def sent_alert_ids(exercise: Exercise, number: int) -> dict[str, str]:
    """``nation -> alert id`` of the alerts inject ``number`` plays for the nations it goes to
    (``Exercise.sent_to``: a called backup goes only to the nations that missed)."""
    return inject_alert_ids(exercise.id, exercise.inject(number), exercise.sent_to(number))


def inject_documents(exercise: Exercise, inject: Inject, fired_at: datetime, payload: Alert | None = None
                     ) -> list[dict[str, Any]]:
    """``inject_document`` for each nation the inject goes to (``Exercise.sent_to``), in MSEL order."""
    return [inject_document(exercise, inject, fired_at, payload, nation)
            for nation in exercise.sent_to(inject.number)]


def inject_document(exercise: Exercise, inject: Inject, fired_at: datetime, payload: Alert | None = None,
                    nation: str | None = None) -> dict[str, Any]:
    """Our JSON alert (schema v1) for ``inject`` of ``exercise`` fired at ``fired_at`` (aware UTC), for
    ``nation`` (one of its ``to`` nations; default the first).

    ``payload`` is the inject's message already decoded (None: built from the MSEL columns). The result
    validates as ``Alert``; the description names the exercise so a reader of any export knows it is play.
    """
    nation = nation or inject.to[0]
    if nation not in inject.to:
        raise ValueError(f"inject {inject.number} does not go to {nation}")
    if payload is not None:
        document = payload.portable()
        for name in ("msg_type", "references"):  # an inject is always a new alert of its own
            document.pop(name, None)
    else:
        document = {"type": inject.type.value, "severity": inject.severity.value, "title": inject.title,
                    "description": inject.description}
        if inject.area is not None:
            document["area"] = inject.area.model_dump(mode="json")
        if inject.lat is not None and inject.lon is not None:
            document["location"] = {"lat": inject.lat, "lon": inject.lon}
    banner = f"EXERCISE {exercise.name} - inject {inject.number}"
    description = str(document.get("description") or "")
    document.update({
        "id": inject_alert_id(exercise.id, inject.number, nation),
        "source": inject.sender if len(inject.sender) >= 2 else "EXCON",
        "reported_at": fired_at.isoformat(),
        "releasable_to": [nation],
        "exercise": True,
        "exercise_id": exercise.id,
        "inject": inject.number,
        "description": f"{banner}\n{description}".strip() if banner not in description else description,
    })
    return document


def ended_play(stored: StoredAlert, endex: datetime) -> StoredAlert | None:
    """An inject's alert once its exercise ended at ``endex``: closed as ``expired`` with ``expires_at`` the
    ENDEX (play is over: it leaves the queue and is never escalated again); None when already closed."""
    if not stored.status.is_open:
        return None
    return stored.model_copy(update={"status": Status.EXPIRED, "expires_at": endex})
