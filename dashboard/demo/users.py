"""The demo users of ``crisisdash serve --demo``: one of each role, in five nations, with clearances, and
fresh passwords."""
from __future__ import annotations

import secrets

from alerts.core.events import UserAdded
from dashboard.edge.tls import served_url

DEMO_USERS = [  # name, role, nation, clearance
    ("demo-duty-rs", "duty_officer", "RS", "CONFIDENTIAL"),
    ("demo-responder-gr", "responder", "GR", "RESTRICTED"),
    ("demo-leader-hr", "leadership", "HR", "SECRET"),
    ("demo-admin-mk", "admin", "MK", "SECRET"),
    ("demo-auditor-al", "auditor", "AL", "UNCLASSIFIED"),
    ("demo-excon", "exercise_control", "RS", "SECRET"),
    ("demo-evaluator-rs", "evaluator", "RS", "RESTRICTED"),
]


def create_demo_users(services) -> str:
    """Create (or re-password) the demo users; returns the text to print (passwords are shown once)."""
    lines = ["", "Demo users (passwords are new at every --demo start):"]
    levels = services.accounts.scheme.levels
    for name, role, nation, clearance in DEMO_USERS:
        password = secrets.token_urlsafe(9)
        clearance = clearance if clearance in levels else levels[0]  # a deployment with its own levels
        if services.accounts.get_user(name) is None:
            services.accounts.add_user(name, role, nation, password, clearance)
            services.centre.audit.record("system", UserAdded(name, role=role, nation=nation, clearance=clearance,
                                                             demo=True))
        else:
            services.accounts.set_password(name, password)
        lines.append(f"  {name:<20} {role:<13} {nation}  {clearance:<13} password: {password}")
    lines.append(f"Open {served_url(services.settings)} and sign in.")
    return "\n".join(lines)
