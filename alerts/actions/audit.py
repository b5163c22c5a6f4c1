"""The audit trail as a reader may see it: ``GET /api/v1/audit`` and the ``/audit`` page both call ``audit_entries``.

Who sees what:

- ``read_all_audit`` (the centre-wide auditor): every entry.
- ``read_audit`` (an admin): an entry only when it names at least one thing
  and everything it names is something the reader may see. When in doubt, hide:
  an entry one of whose fields was cut to its size limit (``truncated``,
  ``alerts.store.audit``) may have named more than it still shows, so it is
  for the auditor only.

What an entry names is read the same way from every entry, whatever event
wrote it (one rule, no list of actions; a new audit event is covered the day
it is written):

- **alerts**: its object, when the centre knows an alert by that id (the read
  model, else the store); its detail's ``alert_id``; and in its detail's
  ``path`` (token use), any alert id after ``/alerts/`` up to any ``/``, as
  written or URL-decoded.
- **assets**: its object, when the centre knows an asset by that id.
- **users**: its actor and its object, when an account has that name; its
  detail's ``user``.

The reader may see an alert released to its nation and within its clearance
(``alerts.actions.visibility.restricted``), an asset released to its nation,
and a user of its own nation (the account's nation now, from the accounts
store). A detail ``alert_id`` or ``user`` the centre does not know hides the
entry. The system (``system``) and command-line operators (``cli:...``) are
not users: an entry that names nothing else (a token revoked from the command
line, an asset import, a sign-in attempt for a name no account has) is for
the auditor only. So an admin sees its own nation's users' sign-ins, tokens,
exports and work on alerts it may see, and the system's escalations of alerts
it may see; never another nation's users, nor anything about an alert above its
clearance or not released to it, however old the entry.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import unquote

from alerts.actions.centre import Centre
from alerts.actions.errors import Invalid
from alerts.actions.visibility import asset_released, require, restricted
from alerts.core.assets import Asset
from alerts.core.model import StoredAlert
from alerts.core.roles import Permission
from alerts.core.viewer import Viewer
from alerts.i18n import N_
from alerts.store.accounts import Accounts
from alerts.store.audit import AuditEntry

#: At most this many entries are read per call, however few of them the reader may see.
MOST_READ = 20_000
#: Entries read per round trip when filtering.
BATCH = 500
#: At most this many segments of a path after ``/alerts/`` are tried as an alert id.
PATH_SEGMENTS = 16
_CURSOR = re.compile(r"^(\+|\(?\d{1,20}(-\d{1,20})?)$")

#: ``user name -> that user's nation (ISO2)``, or None when no account has that name.
UserNation = Callable[[str], str | None]


@dataclass(frozen=True)
class AuditView:
    """Entries the reader may see, newest first, and where the next (older) page starts.

    ``before`` is the value to pass as ``before`` for the next page (an exclusive
    stream id, ``"(<id>"``), or None when no older entry is left.
    """

    entries: list[AuditEntry]
    before: str | None


def audit_entries(centre: Centre, viewer: Viewer, user_nation: UserNation, count: int = 200, before: str = "+",
                  *, most: int = MOST_READ) -> AuditView:
    """Up to ``count`` entries ``viewer`` may see (see the module docstring), newest first, from ``before``.

    ``before``: ``+`` (the newest), a stream id (inclusive) or ``(<id>`` (exclusive, as ``AuditView.before``
    gives). Older entries are read until ``count`` are found, the trail ends, or ``most`` entries were read
    (then ``before`` says where to go on). ``user_nation`` is the accounts store's look-up. Raises
    ``Forbidden`` without ``read_audit``, ``Invalid`` for a ``count`` below 1 or a ``before`` that is not a
    stream id.
    """
    require(viewer, Permission.READ_AUDIT)
    if count < 1:
        raise Invalid(N_("count must be at least 1"))
    if not _CURSOR.match(before) or any(int(n) >= 2**64 for n in re.findall(r"\d+", before)):
        raise Invalid(N_("before: not a stream id (e.g. 1700000000000-0, or (1700000000000-0 to exclude it)"))
    everything = viewer.can(Permission.READ_ALL_AUDIT)
    shows = (lambda _entry: True) if everything else _Reader(centre, viewer, user_nation).may_see
    size = count if everything else max(count, BATCH)
    shown: list[AuditEntry] = []
    cursor, read = before, 0
    while read < most:
        asked = min(size, most - read)
        batch = centre.audit.read(count=asked, before=cursor)
        read += len(batch)
        for entry in batch:
            if shows(entry):
                shown.append(entry)
                if len(shown) == count:
                    return AuditView(shown, f"({entry.entry_id}")
        if len(batch) < asked:
            return AuditView(shown, None)
        cursor = f"({batch[-1].entry_id}"
    return AuditView(shown, cursor)


def account_nations(accounts: Accounts) -> UserNation:
    """The ``user_nation`` look-up of ``audit_entries`` over the accounts store."""
    def nation(name: str) -> str | None:
        user = accounts.get_user(name)
        return user.nation if user is not None else None
    return nation


def path_alert_ids(path: str) -> list[str]:
    """The ids a request path may name as an alert: after each ``/alerts/``, every run of segments from
    there (longest first, at most ``PATH_SEGMENTS``), as written and URL-decoded.

    ``/api/v1/alerts/a%2Fb/ack`` -> ``["a%2Fb/ack", "a%2Fb", "a/b/ack", "a/b", "a"]``.
    """
    found: list[str] = []
    for form in dict.fromkeys((path, unquote(path))):
        rest = form
        while "/alerts/" in rest:
            rest = rest.split("/alerts/", 1)[1]
            segments = rest.split("/")[:PATH_SEGMENTS]
            found += ["/".join(segments[:n]) for n in range(len(segments), 0, -1)]
    return [i for i in dict.fromkeys(found) if i]


class _Reader:
    """What one admin may see, with every look-up made once per call."""

    def __init__(self, centre: Centre, viewer: Viewer, user_nation: UserNation):
        self.centre = centre
        self.viewer = viewer
        self.nation = viewer.nation
        self.query = restricted(centre, viewer)
        self._user_nation = user_nation
        self._nations: dict[str, str | None] = {}
        self._alerts: dict[str, StoredAlert | None] = {}
        self._assets: dict[str, Asset | None] = {}

    def may_see(self, entry: AuditEntry) -> bool:
        """Whether the entry names something and everything it names is visible to the reader."""
        if entry.truncated:
            return False
        verdicts = list(self._verdicts(entry))
        return bool(verdicts) and all(verdicts)

    def _verdicts(self, entry: AuditEntry) -> Iterator[bool]:
        """One verdict per thing the entry names: whether the reader may see it."""
        detail = entry.detail if isinstance(entry.detail, dict) else {}
        for name in dict.fromkeys((entry.actor, entry.object)):
            nation = self._user(name)
            if nation is not None:
                yield nation == self.nation
        if "user" in detail:
            nation = self._user(str(detail["user"]))
            yield nation is not None and nation == self.nation
        alert = self._alert(entry.object)
        if alert is not None:
            yield self.query.releasable(alert)
        if "alert_id" in detail:
            named = self._alert(str(detail["alert_id"]))
            yield named is not None and self.query.releasable(named)
        if isinstance(detail.get("path"), str):
            for candidate in path_alert_ids(detail["path"]):
                named = self._alert(candidate)
                if named is not None:
                    yield self.query.releasable(named)
        asset = self._asset(entry.object)
        if asset is not None:
            yield asset_released(self.viewer, asset)

    def _user(self, name: str) -> str | None:
        if not name or name.startswith("cli:") or name == "system":
            return None
        if name not in self._nations:
            self._nations[name] = self._user_nation(name)
        return self._nations[name]

    def _alert(self, alert_id: str) -> StoredAlert | None:
        if not alert_id:
            return None
        if alert_id not in self._alerts:
            self._alerts[alert_id] = self.centre.index.get(alert_id) or self.centre.alerts.get(alert_id)
        return self._alerts[alert_id]

    def _asset(self, asset_id: str) -> Asset | None:
        if not asset_id:
            return None
        if asset_id not in self._assets:
            self._assets[asset_id] = self.centre.asset_index.get(asset_id, None) or self.centre.assets.get(asset_id)
        return self._assets[asset_id]
