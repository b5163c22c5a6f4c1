"""Alerts over HTTP: health, the list, one alert, the summary, the caller, the audit trail (as the caller may see it)."""
from __future__ import annotations

import time
from collections.abc import Callable

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from alerts.actions.audit import account_nations, audit_entries
from alerts.actions.health import check
from alerts.actions.situation import summary as situation_summary
from alerts.actions.visibility import restricted, visible_alert
from alerts.core.model import StoredAlert
from alerts.core.query import AlertQuery, Page
from alerts.core.roles import Permission
from alerts.core.viewer import Viewer
from dashboard.api.models import AlertOut, AlertPage, AuditPage, Health, Me, Summary, errors
from dashboard.auth.context import caller, services_of
from dashboard.params import MAX_OFFSET, alert_filters
from dashboard.services import Services

router = APIRouter()


def alert_json(stored: StoredAlert, may_see: Callable[[str], bool] = lambda _id: True) -> dict:
    """One alert as the API shows it: the producer's fields plus what ingest added.

    ``may_see(alert id)`` says whether the viewer may see another alert: the
    id of the alert that superseded this one is shown only then. The markings
    at the top level (``releasable_to``, ``classification``, ``caveats``,
    ``tlp``) are those the centre applies (``routing``), never the producer's
    raw values, which stay under ``as_sent`` when they differ: a client that
    trusts ``releasable_to`` must not re-share wider than the centre does.
    """
    body = stored.alert.model_dump(mode="json", exclude_none=True)
    routing = stored.routing
    applied = {"releasable_to": routing.releasable_to, "classification": routing.classification,
               "caveats": list(routing.caveats) or None, "tlp": routing.tlp.value if routing.tlp else None}
    as_sent = {name: body.pop(name) for name in applied if name in body and body[name] != applied[name]}
    body.update({name: value for name, value in applied.items() if value is not None})
    if as_sent:
        body["as_sent"] = as_sent
    body["id"] = stored.id
    body["identifier"] = stored.alert.id
    body["identity"] = stored.identity
    body["placement"] = stored.placement.model_dump(mode="json")
    body["received_at"] = stored.received_at.isoformat()
    body["status"] = stored.status.value
    body["position"] = {"lat": stored.lat, "lon": stored.lon} if stored.located else None
    if stored.expires_at is not None:
        body["expires_at"] = stored.expires_at.isoformat()
    if stored.stale:
        body["stale"] = True
    if stored.superseded_by and may_see(stored.superseded_by):
        body["superseded_by"] = stored.superseded_by
    body["routing"] = stored.routing.model_dump(mode="json") | {"routed": stored.routing.routed}
    return body


def viewers_eyes(services: Services, viewer: Viewer) -> Callable[[str], bool]:
    """``may_see`` for ``alert_json``: whether an alert id is one ``viewer`` may see."""
    query, index = restricted(services.centre, viewer), services.centre.index

    def may_see(alert_id: str) -> bool:
        routing = index.routing(alert_id)  # (held: judged by the routing it keeps, no record read)
        return query.releases(routing) if routing is not None else index.get(alert_id, query) is not None

    return may_see


def degraded_report(services: Services) -> dict:
    """``alerts.actions.health.check``, told what this process knows: while its ``Outage`` is on, Redis is
    not asked (the reason says since when it is unreachable); the supervised threads that are not running
    are reasons too (``dashboard.supervisor.Supervisor.problems``)."""
    outage = services.outage
    if outage.down:
        report = {"status": "degraded", "reasons": [f"Redis unavailable since {outage.snapshot()['since_label']}: "
                                                    f"{outage.reason}"],
                  "redis": f"down: {outage.reason}", "workers": {}, "inboxes": {}, "leases": {}}
    else:
        report = check(services.client, services.keys, time.time)
        if report["redis"] != "ok":
            outage.failed(report["redis"].removeprefix("down: "))
    problems = services.supervisor.problems()
    if problems:
        report = report | {"status": "degraded", "reasons": report["reasons"] + problems}
    if outage.down:  # nobody can be authenticated: every caller gets these, without error details
        report["public_reasons"] = [f"Redis unavailable since {outage.snapshot()['since_label']}"] + [
            f"thread {name} {state['state']}" for name, state in services.supervisor.report().items()
            if state["critical"] and state["state"] == "restarting"]
    return report


@router.get("/health", summary="App, Redis and ingest status (no authentication; reasons for signed-in callers, "
            "figures for admins and auditors)",
            response_model=Health, responses={503: {"model": Health, "description": "degraded"}})
def health(request: Request, services: Services = Depends(services_of)) -> JSONResponse:
    """``status`` ok (200) or degraded (503) (``alerts.actions.health``), and only that for anonymous callers:
    nothing it answers them changes when an alert arrives, whoever it is released to. While Redis is
    unreachable (no caller can be identified) every caller gets the ``reasons``, without error details:
    ``Redis unavailable since HH:MM UTC`` and each critical thread not running (``degraded_report``).

    Signed-in callers also get the ``reasons``; those with ``read_audit`` (admins, auditors) the figures:
    Redis, every worker's heartbeat, what each inbox owes, who holds each job lease, the read model's
    cursor, open live streams,
    and ``alerts_loaded``, counted over the alerts the caller may see.
    """
    report = degraded_report(services)
    body: dict = {"status": report["status"]}
    viewer = getattr(request.state, "viewer", None)
    if viewer is not None:
        body["reasons"] = report["reasons"]
    elif "public_reasons" in report:
        body["reasons"] = report["public_reasons"]
    if viewer is not None and viewer.can(Permission.READ_AUDIT):
        centre = services.centre
        body |= {"redis": report["redis"], "workers": report["workers"], "inboxes": report["inboxes"],
                 "leases": report["leases"],
                 "alerts_loaded": len(centre.index.select(restricted(centre, viewer))),
                 "alerts_held": len(centre.index), "alerts_evicted": centre.index.evicted,
                 "cursor": centre.index.cursor, "live_clients": services.live.subscriber_count,
                 "threads": services.supervisor.report(), "live": services.outage.snapshot()}
    return JSONResponse(body, status_code=200 if report["status"] == "ok" else 503)


@router.get("/alerts", summary="Alerts visible to the caller, newest report first", response_model=AlertPage)
def list_alerts(request: Request, filters: AlertQuery = Depends(alert_filters),
                limit: int = Query(100, ge=1, le=1000), offset: int = Query(0, ge=0, le=MAX_OFFSET),
                viewer: Viewer = Depends(caller), services: Services = Depends(services_of)) -> dict:
    """Filters as documented in ``alerts.core.query``; paging ``limit`` (at most 1000) and ``offset``."""
    centre = services.centre
    result = centre.index.search(restricted(centre, viewer, filters), Page(limit=limit, offset=offset))
    eyes = viewers_eyes(services, viewer)
    page = {"total": result.total, "limit": limit, "offset": offset, "items": [alert_json(a, eyes) for a in result.alerts]}
    held_since = centre.index.held_since
    if held_since is not None and filters.status != "open" and (filters.since is None or filters.since < held_since):
        page["held_since"] = held_since.isoformat()
    return page


@router.get("/alerts/{alert_id:path}", summary="One alert by id (URL-encode the id)", response_model=AlertOut,
            responses=errors(404))
def get_alert(alert_id: str, viewer: Viewer = Depends(caller), services: Services = Depends(services_of)) -> dict:
    """404 if it does not exist or is not released to the caller."""
    return alert_json(visible_alert(services.centre, viewer, alert_id), viewers_eyes(services, viewer))


@router.get("/summary", summary="Counts and the situation figures over the alerts visible to the caller "
            "(filters as /alerts; since/until also set the window for response times and trend)",
            response_model=Summary)
def summary(request: Request, filters: AlertQuery = Depends(alert_filters), viewer: Viewer = Depends(caller),
            services: Services = Depends(services_of)) -> dict:
    """See the README's API table for every figure."""
    return situation_summary(services.centre, viewer, filters)


@router.get("/me", summary="Who the caller is", response_model=Me)
def me(viewer: Viewer = Depends(caller)) -> dict:
    """Name, role, nation, clearance and the permissions of the role."""
    return {"name": viewer.name, "role": viewer.role, "nation": viewer.nation, "clearance": viewer.clearance,
            "permissions": sorted(p.value for p in Permission if viewer.can(p))}


@router.get("/audit", summary="The audit entries the caller may see, newest first (read_audit: admins, auditors)",
            response_model=AuditPage, responses=errors(403, 422))
def audit(limit: int = Query(200, ge=1, le=5000),
          before: str = Query("+", description="where to start: + (the newest), a stream id, or next_before "
                                               "of the previous page"),
          viewer: Viewer = Depends(caller), services: Services = Depends(services_of)) -> dict:
    """At most ``limit`` entries, newest first: every entry for an auditor, for an admin those about its
    own nation's users and the alerts it may see (``alerts.actions.audit``); ``next_before`` pages on."""
    view = audit_entries(services.centre, viewer, account_nations(services.accounts), count=limit, before=before)
    return {"items": [entry.__dict__ for entry in view.entries], "next_before": view.before}
