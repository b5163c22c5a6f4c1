"""Sharing as use cases: the Unrouted view, releasing an alert, changing its releasability, requests.

Rules are ``alerts.core.sharing``; this module checks permissions and
visibility, writes through the stores, audits every step and opens a
released alert's checklist. Every change of an alert's routing is one
compare-and-set on its record announced as ``alert.routed`` with the routing
before (``alerts.store.alerts``), so open pages gain or lose the alert live.

Errors: ``Forbidden`` (the role may not), ``NotFound`` (no such alert or
request *that the viewer may see*), ``Invalid`` (bad nations, no reason),
``Conflict`` (already released, already decided).
"""
from __future__ import annotations

from dataclasses import replace

from alerts.actions.centre import Centre
from alerts.actions.errors import Conflict, Forbidden, Invalid, NotFound
from alerts.actions.visibility import require, restricted, visible_alert
from alerts.core.events import (
    AlertHeld,
    AlertReleased,
    ReleasabilityChanged,
    ReleasabilityDecided,
    ReleasabilityRequested,
)
from alerts.core.model import StoredAlert
from alerts.core.query import Page, QueryResult
from alerts.core.roles import Permission
from alerts.core.sharing import (
    MAX_REASON,
    ReleasabilityRequest,
    RequestState,
    SharingRefused,
    changed,
    decider,
    decides,
    normalised,
    released,
)
from alerts.core.viewer import Viewer
from alerts.i18n import N_
from alerts.store.sharing import new_request_id


def _reason(reason: str) -> str:
    reason = " ".join((reason or "").split())
    if not reason:
        raise Invalid(N_("give a reason: every release and change is audited with why"))
    if len(reason) > MAX_REASON:
        raise Invalid(N_("the reason is longer than %(most)s characters"), values={"most": MAX_REASON})
    return reason


def _unrouted_alert(centre: Centre, viewer: Viewer, alert_id: str) -> StoredAlert:
    stored = centre.index.get(alert_id, replace(restricted(centre, viewer), unrouted=True))
    if stored is None:
        raise NotFound(N_("no unrouted alert %(alert)s"), values={"alert": repr(alert_id)})
    return stored


def unrouted(centre: Centre, viewer: Viewer, page: Page = Page()) -> QueryResult:
    """The unrouted alerts within the viewer's clearance, newest report first (needs ``release_unrouted``)."""
    require(viewer, Permission.RELEASE_UNROUTED)
    return centre.index.search(replace(restricted(centre, viewer), unrouted=True), page)


def _rerouted(centre: Centre, alert_id: str, change) -> tuple[StoredAlert, StoredAlert]:
    try:
        result = centre.alerts.change(alert_id, change)
    except SharingRefused as exc:
        raise Conflict.of(exc) from None
    if result is None:
        raise NotFound(N_("no alert %(alert)s"), values={"alert": repr(alert_id)})
    return result


def audit_held(centre: Centre, recorded: list[StoredAlert]) -> None:
    """Audit every unrouted alert of an ingest batch (``alert.unrouted``, by ``system``): held for the
    admins, seen by nobody yet, but never unrecorded."""
    for stored in recorded:
        if not stored.routing.routed:
            centre.audit.record("system", AlertHeld(stored.id, origin=stored.routing.origin,
                                                    reason=stored.routing.reason))


def release(centre: Centre, viewer: Viewer, alert_id: str, nations: list[str], reason: str, *,
            nation: str | None = None, ip: str = "") -> StoredAlert:
    """Release an unrouted alert to ``nations`` (``nation``: its reporting nation, when unknown).

    The alert then reaches those nations' open pages live; its checklist opens,
    due from now. Returns the released alert.
    """
    require(viewer, Permission.RELEASE_UNROUTED)
    reason = _reason(reason)
    _unrouted_alert(centre, viewer, alert_id)
    now = centre.clock()
    try:
        normalised(nations, None)
        if nation is not None:
            normalised([nation], None)
    except SharingRefused as exc:
        raise Invalid.of(exc) from None
    _, after = _rerouted(centre, alert_id, lambda stored: released(stored, nations, viewer.name, now, nation))
    centre.workflow.open_checklists([after])
    centre.record(viewer, AlertReleased(alert_id, releasable_to=after.routing.releasable_to,
                                                   nation=after.routing.nation or "", reason=reason), ip)
    return after


def change_releasability(centre: Centre, viewer: Viewer, alert_id: str, nations: list[str], reason: str, *,
                         ip: str = "") -> tuple[str, StoredAlert | ReleasabilityRequest]:
    """Change who may see an alert, or ask its originating nation to.

    Returns ``("changed", alert)`` when the viewer decides (a duty officer of
    the reporting nation; an admin when it is unknown), else
    ``("requested", request)``: the originating nation's duty officers decide.
    """
    if not (viewer.can(Permission.CHANGE_RELEASABILITY) or viewer.can(Permission.RELEASE_UNROUTED)):
        raise Forbidden(N_("role %(role)s may not change releasability"), values={"role": viewer.role})
    reason = _reason(reason)
    stored = visible_alert(centre, viewer, alert_id)
    if stored.alert.exercise_id:
        raise Conflict(N_("an exercise inject is released to its MSEL's `to` nations only; it cannot be widened "
                          "to nations that do not play"))
    try:
        proposed = changed(stored, nations).routing.releasable_to or []
    except SharingRefused as exc:
        raise Invalid.of(exc) from None
    before = list(stored.routing.releasable_to or [])
    if decides(viewer, stored):
        earlier, after = _rerouted(centre, alert_id, lambda current: changed(current, nations))
        centre.record(viewer, ReleasabilityChanged(alert_id, before=earlier.routing.releasable_to,
                                                              after=after.routing.releasable_to, reason=reason), ip)
        return "changed", after
    if not viewer.can(Permission.CHANGE_RELEASABILITY):
        if decider(stored):
            raise Forbidden(N_("the releasability of %(alert)s is decided by %(decider)s"),
                            values={"alert": repr(alert_id), "decider": decider(stored)})
        raise Forbidden(N_("the releasability of %(alert)s is decided by the admins"), values={"alert": repr(alert_id)})
    if proposed == before:
        raise Invalid(N_("that is the releasability it has"))
    request = ReleasabilityRequest(id=new_request_id(), alert_id=alert_id, requested_by=viewer.name,
                                   requested_nation=viewer.nation, at=centre.clock(), before=before,
                                   after=proposed, reason=reason, decides=decider(stored))
    centre.requests.add(request)
    centre.record(viewer, ReleasabilityRequested(alert_id, request=request.id, before=before,
                                                            after=proposed, reason=reason), ip)
    return "requested", request


def requests_for(centre: Centre, viewer: Viewer, state: RequestState | None = RequestState.PENDING
                 ) -> list[ReleasabilityRequest]:
    """The requests ``viewer`` may decide or made (of ``state``; None: any), about alerts it may see."""
    query = restricted(centre, viewer)
    found = []
    for request in centre.requests.all():
        if state is not None and request.state is not state:
            continue
        if not (request.may_decide(viewer) or request.requested_by == viewer.name):
            continue
        if centre.index.get(request.alert_id, query) is None:
            continue
        found.append(request)
    return found


def decide(centre: Centre, viewer: Viewer, request_id: str, approve: bool, note: str = "", *,
           ip: str = "") -> ReleasabilityRequest:
    """Approve (apply) or decline a pending request; only the originating nation's duty officers may."""
    request = centre.requests.get(request_id)
    if request is None or centre.index.get(request.alert_id, restricted(centre, viewer)) is None:
        raise NotFound(N_("no request %(request)s"), values={"request": repr(request_id)})
    if not request.may_decide(viewer):
        if request.decides:
            raise Forbidden(N_("requests about %(alert)s are decided by %(decider)s"),
                            values={"alert": repr(request.alert_id), "decider": request.decides})
        raise Forbidden(N_("requests about %(alert)s are decided by the admins"),
                        values={"alert": repr(request.alert_id)})
    now = centre.clock()
    state = RequestState.APPROVED if approve else RequestState.DECLINED

    def decided(current: ReleasabilityRequest) -> ReleasabilityRequest:
        if current.state is not RequestState.PENDING:
            raise Conflict(N_("request %(request)s was %(state)s already"),
                           values={"request": repr(request_id), "state": current.state.value})
        return current.model_copy(update={"state": state, "decided_by": viewer.name, "decided_at": now,
                                          "note": " ".join(note.split())[:MAX_REASON]})

    changed_request = centre.requests.change(request_id, decided)
    if changed_request is None:
        raise NotFound(N_("no request %(request)s"), values={"request": repr(request_id)})
    after_request = changed_request[1]
    centre.record(viewer, ReleasabilityDecided(request.alert_id, request=request_id,
                                                          decision=state.value, note=after_request.note), ip)
    if approve:
        earlier, after = _rerouted(centre, request.alert_id, lambda current: changed(current, request.after))
        centre.record(viewer, ReleasabilityChanged(
            request.alert_id, before=earlier.routing.releasable_to, after=after.routing.releasable_to,
            reason=f"{request.reason} (asked by {request.requested_by})", request=request_id), ip)
    return after_request
