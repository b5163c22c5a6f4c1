"""Roles and what each may do: the permission table the server enforces on every route and callback.

| permission       | duty_officer | responder | leadership | admin |
|------------------|:------------:|:---------:|:----------:|:-----:|
| view             | yes          | yes       | yes        | yes   |
| acknowledge      | yes          | yes       |            |       |
| complete_step    | yes          | yes       |            |       |
| resolve          | yes          |           |            |       |
| task_assets      | yes          |           |            |       |
| export           | yes          |           | yes        | yes   |
| manage_users     |              |           |            | yes   |
| read_audit       |              |           |            | yes   |

Every role sees only what is released to its own nation; admins manage users
but are not exempt from releasability.
"""
from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """What a user does in the centre; each has the permissions of the table above."""

    DUTY_OFFICER = "duty_officer"
    RESPONDER = "responder"
    LEADERSHIP = "leadership"
    ADMIN = "admin"


class Permission(StrEnum):
    """One thing a role may do, checked on the server by every route and callback."""

    VIEW = "view"
    ACKNOWLEDGE = "acknowledge"
    COMPLETE_STEP = "complete_step"
    RESOLVE = "resolve"
    TASK_ASSETS = "task_assets"
    EXPORT = "export"
    MANAGE_USERS = "manage_users"
    READ_AUDIT = "read_audit"


PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.DUTY_OFFICER: frozenset({
        Permission.VIEW, Permission.ACKNOWLEDGE, Permission.COMPLETE_STEP, Permission.RESOLVE,
        Permission.TASK_ASSETS, Permission.EXPORT,
    }),
    Role.RESPONDER: frozenset({Permission.VIEW, Permission.ACKNOWLEDGE, Permission.COMPLETE_STEP}),
    Role.LEADERSHIP: frozenset({Permission.VIEW, Permission.EXPORT}),
    Role.ADMIN: frozenset({Permission.VIEW, Permission.EXPORT, Permission.MANAGE_USERS, Permission.READ_AUDIT}),
}


def allowed(role: Role | str, permission: Permission) -> bool:
    """Whether ``role`` has ``permission``; False for anything that is not a role."""
    try:
        return permission in PERMISSIONS[Role(role)]
    except ValueError:  # not a role at all
        return False
