"""The demo users of ``crisisdash serve --demo``: one of each role, in five nations, with clearances, and
fresh passwords."""
from __future__ import annotations

import secrets

from alerts.core.events import UserAdded
from dashboard.edge.tls import served_url

DEMO_USERS = [  # name, role, nation, clearance, what to try first
    ("demo-duty-rs", "duty_officer", "RS", "CONFIDENTIAL", "the live map (/): acknowledge, task assets"),
    ("demo-responder-gr", "responder", "GR", "RESTRICTED", "the queue (/queue): work checklists"),
    ("demo-leader-hr", "leadership", "HR", "SECRET", "the situation (/situation): SITREP exports"),
    ("demo-admin-mk", "admin", "MK", "SECRET", "users, sharing requests, the unrouted TAK emergency"),
    ("demo-auditor-al", "auditor", "AL", "UNCLASSIFIED", "the audit trail (/audit)"),
    ("demo-excon", "exercise_control", "RS", "SECRET", "exercise control (/exercises)"),
    ("demo-evaluator-rs", "evaluator", "RS", "RESTRICTED", "evaluation (/evaluation)"),
]


def create_demo_users(services) -> str:
    """Create (or re-password) the demo users; returns the text to print (passwords are shown once)."""
    lines = ["", "Demo users (passwords are new at every --demo start). Each sees the alerts released to its",
             "nation up to its clearance: the same map shows each of them something different.",
             f"  {'user':<20} {'role':<17} {'sees':<31} {'password':<14} try"]
    levels = services.accounts.scheme.levels
    for name, role, nation, clearance, first in DEMO_USERS:
        password = secrets.token_urlsafe(9)
        clearance = clearance if clearance in levels else levels[0]  # a deployment with its own levels
        if services.accounts.get_user(name) is None:
            services.accounts.add_user(name, role, nation, password, clearance)
            services.centre.audit.record("system", UserAdded(name, role=role, nation=nation, clearance=clearance,
                                                             demo=True))
        else:
            services.accounts.set_password(name, password)
        sees = f"{nation}, up to {clearance}"
        lines.append(f"  {name:<20} {role:<17} {sees:<31} {password:<14} {first}")
    lines.append(f"Open {served_url(services.settings)} and sign in.")
    return "\n".join(lines)
