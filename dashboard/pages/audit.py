"""The audit trail page: read_audit (admins, auditors); the permission is checked on the server, not by hiding the link.

An admin sees the entries about its own nation's users and the alerts it may
see; an auditor every entry (``alerts.actions.audit``, as ``GET /api/v1/audit``).
Entries quote alerts (ids, step notes, reasons): the page carries the marking
of every alert its entries name (``#audit-marking``), which the banner shows.
"""
from __future__ import annotations

import json

import dash
from dash import html

from alerts import i18n
from alerts.actions.audit import account_nations, audit_entries, path_alert_ids
from alerts.actions.markings import marking_of
from alerts.core.roles import Permission
from alerts.i18n import N_
from alerts.i18n import gettext as _
from dashboard.auth.context import callback_context
from dashboard.components.alerts import marking_attributes
from dashboard.components.language import UNTRANSLATED, page_title

SHOWN = 500


def layout(**_query) -> html.Div:
    """The latest ``SHOWN`` audit entries the signed-in reader may see (read_audit only)."""
    context = callback_context()
    viewer, services = context.viewer, context.services
    if not viewer.can(Permission.READ_AUDIT):
        return html.Div(_("Only administrators and auditors may read the audit trail."), className="page-body denied")
    entries = audit_entries(services.centre, viewer, account_nations(services.accounts), count=SHOWN).entries
    scope = _("Shown: every entry.") if viewer.can(Permission.READ_ALL_AUDIT) else \
        _("Shown: entries about %(nation)s's users and the alerts you may see.") % {"nation": viewer.nation}
    header = html.Tr([html.Th(h) for h in (_("When (UTC)"), _("Who"), _("Action"), _("Object"), _("Detail"),
                                           _("From"))])
    rows = [  # who, the action's code, its object, its detail and the address are records: never translated
        html.Tr([html.Td(e.at[:19].replace("T", " ")), html.Td(e.actor, **UNTRANSLATED),
                 html.Td(e.action, **UNTRANSLATED), html.Td(e.object, **UNTRANSLATED),
                 html.Td(json.dumps(e.detail) if e.detail else "", **UNTRANSLATED), html.Td(e.ip, **UNTRANSLATED)])
        for e in entries
    ]
    named = {name for e in entries for name in (e.object, str(e.detail.get("alert_id") or ""),
                                                *path_alert_ids(str(e.detail.get("path") or ""))) if name}
    quoted = [stored for stored in services.centre.index.get_many(named) if stored is not None]
    return html.Div(className="page-body", children=[
        html.Div(hidden=True, id="audit-marking", **marking_attributes(marking_of(services.centre, quoted))),
        html.H2(_("Audit trail (latest %(n)s)") % {"n": i18n.number(len(entries))}),
        html.P(scope, className="muted", id="audit-scope"),
        html.Table([html.Thead(header), html.Tbody(rows)], className="audit-table", id="audit-table"),
    ])


dash.register_page(__name__, path="/audit", title=page_title(N_("Audit")), name=N_("Audit"),
                   layout=layout, permission=Permission.READ_AUDIT)
