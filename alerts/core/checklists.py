"""Rapid-response checklist templates: data files in, the steps for one alert out.

One TOML file per alert type in the ``checklists/`` folder (``terrorism.toml``,
``cyber.toml``...; the file name is the type). Every type must have a file.

.. code-block:: toml

    [[steps]]                       # base steps, at every severity
    title = "Confirm and classify the report"
    role = "duty_officer"           # who is expected to do it (a role that may complete steps)
    due_minutes = 5                 # counted from when the centre received the alert

    [[extra.critical]]              # added for critical alerts only (also high, medium, low)
    title = "Task the nearest EOD/CBRN asset"
    role = "responder"
    due_minutes = 15

``checklist_for`` gives the base steps plus the severity's extra steps, in
order of due time (base first on a tie). Due times count from the alert's
``received_at``, not its ``reported_at``: the centre is accountable from when
it learns of an alert, and a late-delivered report must not be born overdue.

Domain core: no Redis, no Dash.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from alerts.core.model import AlertType, Severity, StoredAlert
from alerts.core.roles import Permission, Role, allowed


class TemplateError(ValueError):
    """A checklist template is missing or wrong; the message names the file and the field."""


class StepTemplate(BaseModel):
    """One step of a template: its title, the role expected to do it, minutes after receipt it is due."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    title: str = Field(min_length=1, max_length=200)
    role: Role
    due_minutes: int = Field(ge=1, le=7 * 24 * 60)

    @field_validator("role")
    @classmethod
    def _role_may_complete_steps(cls, role: Role) -> Role:
        if not allowed(role, Permission.COMPLETE_STEP):
            able = ", ".join(r.value for r in Role if allowed(r, Permission.COMPLETE_STEP))
            raise ValueError(f"role {role.value!r} may not complete checklist steps (use one of: {able})")
        return role


class ChecklistTemplate(BaseModel):
    """The template of one alert type: base steps and extra steps per severity."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: AlertType
    steps: list[StepTemplate] = Field(min_length=1)
    extra: dict[Severity, list[StepTemplate]] = Field(default_factory=dict)

    def steps_for(self, severity: Severity) -> list[StepTemplate]:
        """The base steps plus the extra steps of ``severity``, by due time (base first on a tie)."""
        combined = [*self.steps, *self.extra.get(severity, [])]
        return sorted(combined, key=lambda step: step.due_minutes)  # stable: base steps first on a tie


@dataclass(frozen=True)
class ChecklistStep:
    """One step of one alert's checklist (``n`` counts from 1)."""

    n: int
    title: str
    role: str
    due_at: datetime


def _where(loc: tuple) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(file)"


def parse_template(text: str, alert_type: str, source: str) -> ChecklistTemplate:
    """One template from TOML text; ``source`` names the file in error messages."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TemplateError(f"{source}: not valid TOML: {exc}") from None
    if "type" in data:
        raise TemplateError(f"{source}: type: do not set it; the file name ({alert_type!r}) is the type")
    try:
        return ChecklistTemplate.model_validate({**data, "type": alert_type})
    except ValidationError as exc:
        problems = "; ".join(f"{_where(e['loc'])}: {e['msg']}" for e in exc.errors())
        raise TemplateError(f"{source}: {problems}") from None


class Templates:
    """The checklist templates of every alert type."""

    def __init__(self, templates: dict[AlertType, ChecklistTemplate]):
        missing = [t.value for t in AlertType if t not in templates]
        if missing:
            raise TemplateError(f"no checklist template for: {', '.join(missing)}")
        self._templates = dict(templates)

    @classmethod
    def load(cls, folder: Path) -> "Templates":
        """Read and validate every ``<type>.toml`` in ``folder``; raises ``TemplateError``."""
        folder = Path(folder)
        if not folder.is_dir():
            raise TemplateError(f"{folder}: checklist template folder not found")
        templates: dict[AlertType, ChecklistTemplate] = {}
        known = {t.value for t in AlertType}
        for path in sorted(folder.glob("*.toml")):
            source = f"{folder.name}/{path.name}"
            if path.stem not in known:
                raise TemplateError(f"{source}: {path.stem!r} is not an alert type ({', '.join(sorted(known))})")
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise TemplateError(f"{source}: cannot read: {exc}") from None
            templates[AlertType(path.stem)] = parse_template(text, path.stem, source)
        try:
            return cls(templates)
        except TemplateError as exc:
            raise TemplateError(f"{folder.name}/: {exc}") from None

    def template(self, alert_type: AlertType) -> ChecklistTemplate:
        """The template of ``alert_type``."""
        return self._templates[alert_type]

    def checklist_for(self, stored: StoredAlert) -> list[ChecklistStep]:
        """The steps of ``stored``'s checklist, due from its ``accountable_from`` (receipt, or release from Unrouted)."""
        return checklist_for(stored, self._templates[stored.alert.type])


def checklist_for(stored: StoredAlert, template: ChecklistTemplate) -> list[ChecklistStep]:
    """The steps of ``stored``'s checklist, due from its ``accountable_from`` (receipt, or release from Unrouted)."""
    start = stored.accountable_from
    return [
        ChecklistStep(n=i, title=step.title, role=step.role.value, due_at=start + timedelta(minutes=step.due_minutes))
        for i, step in enumerate(template.steps_for(stored.alert.severity), start=1)
    ]
