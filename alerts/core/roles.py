"""Roles and what each may do: the permission table the server enforces on every route and callback.

| permission            | duty_officer | responder | leadership | admin | auditor | exercise_control | evaluator |
|-----------------------|:------------:|:---------:|:----------:|:-----:|:-------:|:----------------:|:---------:|
| view                  | yes          | yes       | yes        | yes   | yes     | yes              | yes       |
| acknowledge           | yes          | yes       |            |       |         |                  |           |
| complete_step         | yes          | yes       |            |       |         |                  |           |
| resolve               | yes          |           |            |       |         |                  |           |
| task_assets           | yes          |           |            |       |         |                  |           |
| change_releasability  | yes          |           |            |       |         |                  |           |
| export                | yes          |           | yes        | yes   |         |                  |           |
| release_unrouted      |              |           |            | yes   |         |                  |           |
| manage_users          |              |           |            | yes   |         |                  |           |
| read_audit            |              |           |            | yes   | yes     |                  |           |
| read_all_audit        |              |           |            |       | yes     |                  |           |
| control_exercises     |              |           |            |       |         | yes              |           |
| evaluate_exercises    |              |           |            |       |         | yes              | yes       |

Every role sees only the alerts released to its own nation and within its
clearance; admins manage users and release unrouted alerts but are not
exempt from releasability. ``change_releasability``: a duty officer of the
originating nation changes an alert's releasability; one of another nation
requests a change, which the originating nation's duty officer approves.
``read_audit`` shows the entries about what the reader may see (its nation
and clearance); ``read_all_audit`` (the centre-wide auditor) shows every entry.
``control_exercises`` is the exercise control cell (EXCON, the white cell): it
loads MSELs and starts, pauses, resumes and ends exercises, fires and skips
injects, and stops every exercise at once for a real-world event.
``evaluate_exercises`` reads the MSEL with its expected actions and the
evaluation table, and records observations; the training audience (everyone
else) sees only the injects that reach it, as alerts.
"""
from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """What a user does in the centre; each has the permissions of the table above."""

    DUTY_OFFICER = "duty_officer"
    RESPONDER = "responder"
    LEADERSHIP = "leadership"
    ADMIN = "admin"
    AUDITOR = "auditor"
    EXERCISE_CONTROL = "exercise_control"
    EVALUATOR = "evaluator"


class Permission(StrEnum):
    """One thing a role may do, checked on the server by every route and callback."""

    VIEW = "view"
    ACKNOWLEDGE = "acknowledge"
    COMPLETE_STEP = "complete_step"
    RESOLVE = "resolve"
    TASK_ASSETS = "task_assets"
    CHANGE_RELEASABILITY = "change_releasability"
    EXPORT = "export"
    RELEASE_UNROUTED = "release_unrouted"
    MANAGE_USERS = "manage_users"
    READ_AUDIT = "read_audit"
    READ_ALL_AUDIT = "read_all_audit"
    CONTROL_EXERCISES = "control_exercises"
    EVALUATE_EXERCISES = "evaluate_exercises"


PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.DUTY_OFFICER: frozenset({
        Permission.VIEW, Permission.ACKNOWLEDGE, Permission.COMPLETE_STEP, Permission.RESOLVE,
        Permission.TASK_ASSETS, Permission.CHANGE_RELEASABILITY, Permission.EXPORT,
    }),
    Role.RESPONDER: frozenset({Permission.VIEW, Permission.ACKNOWLEDGE, Permission.COMPLETE_STEP}),
    Role.LEADERSHIP: frozenset({Permission.VIEW, Permission.EXPORT}),
    Role.ADMIN: frozenset({Permission.VIEW, Permission.EXPORT, Permission.RELEASE_UNROUTED, Permission.MANAGE_USERS,
                           Permission.READ_AUDIT}),
    Role.AUDITOR: frozenset({Permission.VIEW, Permission.READ_AUDIT, Permission.READ_ALL_AUDIT}),
    Role.EXERCISE_CONTROL: frozenset({Permission.VIEW, Permission.CONTROL_EXERCISES, Permission.EVALUATE_EXERCISES}),
    Role.EVALUATOR: frozenset({Permission.VIEW, Permission.EVALUATE_EXERCISES}),
}


def allowed(role: Role | str, permission: Permission) -> bool:
    """Whether ``role`` has ``permission``; False for anything that is not a role."""
    try:
        return permission in PERMISSIONS[Role(role)]
    except ValueError:  # not a role at all
        return False
