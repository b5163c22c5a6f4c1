"""The audit trail page (admins only: the permission is checked on the server, not by hiding the link)."""
from __future__ import annotations

import json

import dash
from dash import html

from alerts.core.roles import Permission
from dashboard.auth.context import callback_context

SHOWN = 500


def layout(**_query) -> html.Div:
    """The latest ``SHOWN`` audit entries (admins only)."""
    context = callback_context()
    if not context.viewer.can(Permission.READ_AUDIT):
        return html.Div("Only administrators may read the audit trail.", className="page-body denied")
    entries = context.services.centre.audit.read(count=SHOWN)
    header = html.Tr([html.Th(h) for h in ("When (UTC)", "Who", "Action", "Object", "Detail", "From")])
    rows = [
        html.Tr([html.Td(e.at[:19].replace("T", " ")), html.Td(e.actor), html.Td(e.action),
                 html.Td(e.object), html.Td(json.dumps(e.detail) if e.detail else ""), html.Td(e.ip)])
        for e in entries
    ]
    return html.Div(className="page-body", children=[
        html.H2(f"Audit trail (latest {len(entries)})"),
        html.Table([html.Thead(header), html.Tbody(rows)], className="audit-table", id="audit-table"),
    ])


dash.register_page(__name__, path="/audit", title="Audit · Crisis dashboard", name="Audit",
                   layout=layout, permission=Permission.READ_AUDIT)
