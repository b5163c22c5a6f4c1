"""Sharing rules: who decides an alert's releasability, and what a release or a change makes of it.

- **Release from Unrouted** (``released``): an admin names the nations (and,
  when the message did not say, the reporting nation); the alert is routed
  from then, and its checklist counts from that moment.
- **Change** (``changed``): the *originating nation* (the alert's reporting
  nation) decides. A duty officer of that nation changes it at once; a duty
  officer of another nation who may see the alert asks, and the originating
  nation's duty officer approves or declines the request
  (``ReleasabilityRequest``). When the reporting nation is unknown, or
  the alert is not released to it (``decider``), the centre's admins decide
  in its place. The reporting nation always stays
  among the nations released to.

Domain core: no Redis, no Dash.
"""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

from alerts.core.markings import RELEASABLE_TO_ALL
from alerts.core.model import StoredAlert, releasable_nations
from alerts.core.refusals import N_, Refusal, Refused
from alerts.core.roles import Permission
from alerts.core.viewer import Viewer

MAX_REASON = 500


class SharingRefused(Refused):
    """A release or change the rules do not allow; the message says why (``Refusal``)."""


def normalised(nations: list[str], nation: str | None) -> list[str]:
    """``nations`` checked (alpha-2 or ``ALL``), with the reporting ``nation`` kept among them;
    ``["ALL"]`` when ``ALL`` is named. Raises ``SharingRefused``."""
    try:
        checked = releasable_nations(nations) or []
    except Refusal as exc:
        raise SharingRefused(exc.template, exc.values) from None
    if RELEASABLE_TO_ALL in checked:
        return [RELEASABLE_TO_ALL]
    if nation is not None and nation not in checked:
        checked.insert(0, nation)
    return checked


def decider(stored: StoredAlert) -> str | None:
    """The nation whose duty officers decide ``stored``'s releasability: its reporting nation, when that
    nation may see it; None (the centre's admins decide) when the reporting nation is unknown or the
    alert is not released to it (a JSON ``source`` naming a nation that ``releasable_to`` leaves out:
    ``source`` is never a releasability, so that nation cannot see the alert, nor a request about it)."""
    nation, released_to = stored.routing.nation, stored.routing.releasable_to or []
    if nation is None or (RELEASABLE_TO_ALL not in released_to and nation not in released_to):
        return None
    return nation


def decides(viewer: Viewer, stored: StoredAlert) -> bool:
    """Whether ``viewer`` decides the releasability of ``stored`` itself (see the module docstring)."""
    nation = decider(stored)
    if nation is None:
        return viewer.can(Permission.RELEASE_UNROUTED)
    return viewer.can(Permission.CHANGE_RELEASABILITY) and viewer.nation == nation


def released(stored: StoredAlert, nations: list[str], by: str, at: datetime, nation: str | None = None
             ) -> StoredAlert:
    """``stored`` (unrouted) released to ``nations``; ``nation`` sets the reporting nation when unknown.

    Raises ``SharingRefused`` if it is routed already or the nations are not usable.
    """
    routing = stored.routing
    if routing.routed:
        raise SharingRefused(N_("the alert is routed already: change its releasability instead"))
    reporting = routing.nation
    if nation is not None:
        nation = nation.strip().upper()
        if reporting is not None and nation != reporting:
            raise SharingRefused(N_("the reporting nation is %(nation)s; it cannot be changed"),
                                 {"nation": reporting})
        reporting = normalised([nation], None)[0]
    return stored.model_copy(update={"routing": routing.model_copy(update={
        "nation": reporting, "releasable_to": normalised(nations, reporting), "released_by": by,
        "released_at": at, "reason": ""})})


def changed(stored: StoredAlert, nations: list[str]) -> StoredAlert:
    """``stored`` released to ``nations`` instead (the deciding nation, ``decider``, kept); ``SharingRefused``
    if unrouted."""
    if not stored.routing.routed:
        raise SharingRefused(N_("the alert is unrouted: release it first"))
    return stored.model_copy(update={"routing": stored.routing.model_copy(update={
        "releasable_to": normalised(nations, decider(stored))})})


class RequestState(StrEnum):
    """Where a releasability change request stands."""

    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"


class ReleasabilityRequest(BaseModel):
    """A change of an alert's releasability asked by someone who does not decide it.

    ``before``/``after``: the nations released to when asked, and asked for.
    """

    model_config = ConfigDict(frozen=True)

    id: str
    alert_id: str
    requested_by: str
    requested_nation: str | None
    at: datetime
    before: list[str]
    after: list[str]
    reason: str = Field(max_length=MAX_REASON)
    decides: str | None = Field(description="the nation whose duty officers decide; None: the centre's admins")
    state: RequestState = RequestState.PENDING
    decided_by: str | None = None
    decided_at: datetime | None = None
    note: str = Field(default="", max_length=MAX_REASON)

    @field_validator("reason", "note")
    @classmethod
    def _one_line(cls, value: str) -> str:
        return " ".join(value.split())

    def may_decide(self, viewer: Viewer) -> bool:
        """Whether ``viewer`` may approve or decline this request."""
        if self.decides is None:
            return viewer.can(Permission.RELEASE_UNROUTED)
        return viewer.can(Permission.CHANGE_RELEASABILITY) and viewer.nation == self.decides
