"""What a MSEL is checked against at load beyond its own rows: this deployment's markings and checklists.

``alerts.formats.msel`` checks each row on its own; these checks need the centre, and run on the alert each
inject will actually send (``alerts.core.injects.inject_document``), so an inject that loads is one that
ingest will take:

- its markings (a payload's classification, caveats, TLP; CAP ``restriction``, CoT ``access``) must be
  ones this deployment can honour (``CRISIS_CLASSIFICATIONS``; ``alerts.core.routing.route``), else it
  would be dead-lettered when it fires;
- a ``step <n>`` clause of its expected action must name a step of the checklist its alert will get
  (the template of its type, at its severity), else the clause could never be met.

Each problem is ``{"row", "column", "message"}`` with the MSEL's spreadsheet row.
"""
from __future__ import annotations

from datetime import datetime

from pydantic import ValidationError

from alerts.actions.centre import Centre
from alerts.core.exercises import Exercise
from alerts.core.expected_actions import ActionKind
from alerts.core.injects import inject_document
from alerts.core.markings import MarkingError
from alerts.core.model import Alert
from alerts.core.routing import route
from alerts.formats.decode import decode_alert
from alerts.formats.errors import Rejected


def msel_problems(centre: Centre, exercise: Exercise, rows: dict[int, int], now: datetime) -> list[dict]:
    """The problems of ``exercise``'s injects against this centre; ``rows`` maps inject number -> its MSEL row.
    Empty when there are none."""
    problems = []
    for inject in exercise.injects:
        row = rows.get(inject.number, 0)

        def problem(column: str, message: str, number: int = inject.number, row: int = row) -> None:
            problems.append({"row": row, "column": column, "message": f"inject {number}: {message}"})

        payload = None
        if inject.payload is not None:
            try:
                payload = decode_alert(inject.payload)
            except Rejected as error:
                problem("payload_file", f"the message is refused: {error.reason}")
                continue
        try:
            alert = Alert.model_validate(inject_document(exercise, inject, now, payload))
            route(alert, centre.feeds, centre.scheme)
        except MarkingError as error:
            problem("payload_file" if payload is not None else "", f"markings this deployment cannot honour: {error}")
            continue
        except ValidationError as error:
            problem("payload_file" if payload is not None else "", f"not a valid alert: {error.errors()[0]['msg']}")
            continue
        steps = len(centre.workflow.templates.template(alert.type).steps_for(alert.severity))
        for clause in inject.clauses:
            if clause.kind is ActionKind.STEP and int(clause.argument) > steps:
                problem("expected_action", f"{clause.text()!r}: the {alert.type.value} checklist at "
                                           f"{alert.severity.value} severity has {steps} steps")
    return problems
