"""The demo users of ``crisisdash serve --demo``: one of each role, in four nations, with fresh passwords."""
from __future__ import annotations

import secrets

from alerts.core.events import UserAdded

DEMO_USERS = [
    ("demo-duty-rs", "duty_officer", "RS"),
    ("demo-responder-gr", "responder", "GR"),
    ("demo-leader-hr", "leadership", "HR"),
    ("demo-admin-mk", "admin", "MK"),
]


def create_demo_users(services) -> str:
    """Create (or re-password) the demo users; returns the text to print (passwords are shown once)."""
    lines = ["", "Demo users (passwords are new at every --demo start):"]
    for name, role, nation in DEMO_USERS:
        password = secrets.token_urlsafe(9)
        if services.accounts.get_user(name) is None:
            services.accounts.add_user(name, role, nation, password)
            services.centre.audit.record("system", UserAdded(name, role=role, nation=nation, demo=True))
        else:
            services.accounts.set_password(name, password)
        lines.append(f"  {name:<20} {role:<13} {nation}  password: {password}")
    lines.append(f"Open http://{services.settings.host}:{services.settings.port}/ and sign in.")
    return "\n".join(lines)
