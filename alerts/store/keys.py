"""Every Redis key, channel and stream name, under one prefix. Nobody spells a key twice.

On a Redis Cluster the prefix is a hash tag (``{crisis}``: ``hash_tag``), so that every name below hashes to
one slot; on a single server any prefix goes (default ``crisis``).

| name                          | kind     | holds                                                     |
|-------------------------------|----------|-----------------------------------------------------------|
| ``{p}:alerts``                | channel  | producers PUBLISH raw alert payloads here (at-most-once)  |
| ``{p}:alerts:inbox``          | stream   | producers XADD ``payload=...`` here (durable, at-least-once) |
| ``{p}:alerts:dead``           | stream   | refused payloads: ``payload``, ``reason``, ``via``, ``at`` |
| ``{p}:alert:{id}``            | string   | one stored alert (JSON of ``StoredAlert``)                |
| ``{p}:identity:{identity}``   | string   | the key of the alert a producer identity names now, and its expiry (``key|epoch``) |
| ``{p}:message:{identity@time}`` | string | the key of the alert a renewable message (a CoT emergency report) was counted against |
| ``{p}:pending-refs``          | hash     | identity -> JSON list of updates/cancels that named it before it arrived |
| ``{p}:pending-refs:age``      | zset     | identity -> when its first pending reference arrived (for the retention bound) |
| ``{p}:workers``               | hash     | worker name -> JSON heartbeat ``{state, beat, error, stream, consumer}`` |
| ``{p}:events``                | stream   | the ordered record of accepted changes (``alert.created``...) that dashboards follow and replay |
| ``{p}:ingest``                | group    | consumer group of ingest workers on the inbox stream      |
| ``{p}:audit``                 | stream   | the audit trail (see ``alerts.store.audit``)                    |
| ``{p}:user:{name}``           | hash     | a user: role, nation, clearance, argon2 password hash, disabled |
| ``{p}:users``                 | set      | all user names                                            |
| ``{p}:token:{sha256}``        | hash     | an API token, stored by the SHA-256 of its secret         |
| ``{p}:tokens:{name}``         | set      | the token ids of a user                                   |
| ``{p}:token-index``           | hash     | token id -> SHA-256 of the token (for revocation)         |
| ``{p}:session:{sha256}``      | hash     | a web session (expires), by the SHA-256 of its cookie     |
| ``{p}:login-failures:{name}|{address}`` | hash | failed sign-ins of a (user name, client address) pair: ``count``, ``last`` (expires) |
| ``{p}:rate:{scope}:{subject}`` | string  | a rate limit's theoretical arrival time (GCRA, expires; see ``alerts.store.throttle``) |
| ``{p}:audit-first:{subject}:{hour}`` | string | marks that an aggregated audit event (``token.use``) was written this hour (expires) |
| ``{p}:audit:retention-lock``  | string   | held by the one process archiving and trimming the audit trail (expires) |
| ``{p}:accounts:generation``   | string   | counter bumped by every change that can end or narrow access (live streams re-check) |
| ``{p}:releasability-requests`` | hash    | request id -> JSON of a releasability change awaiting the originating nation |
| ``{p}:checklist:{id}``        | string   | one alert's checklist (JSON: steps with due times), set once |
| ``{p}:checklist-done:{id}``   | hash     | step number -> JSON ``{by, at, note}``, set once per step |
| ``{p}:acks``                  | hash     | alert id -> JSON ``{by, at}`` of its one acknowledgment   |
| ``{p}:resolutions``           | hash     | alert id -> JSON ``{by, at, note}`` of its resolution     |
| ``{p}:escalation``            | hash     | alert id -> JSON ``{level, reason, at}``, the level reached |
| ``{p}:open-cases``            | set      | ids of alerts whose response is open (what escalation watches) |
| ``{p}:escalations``           | channel  | JSON escalation messages (see ``alerts.core.escalation``)      |
| ``{p}:assets``                | channel  | producers PUBLISH asset positions/status (at-most-once)   |
| ``{p}:assets:inbox``          | stream   | producers XADD asset ``payload=...`` here (durable)       |
| ``{p}:assets:dead``           | stream   | refused asset payloads: ``payload``, ``reason``, ``via``, ``at`` |
| ``{p}:assets:events``         | stream   | every change to an asset (``asset.updated``, JSON ``asset``), followed for live push |
| ``{p}:asset-state``           | hash     | asset id -> JSON of the ``Asset`` (see ``alerts.store.assets``) |
| ``{p}:assets-ingest``         | group    | consumer group of asset ingest workers on the asset inbox  |
| ``{p}:exercises``             | hash     | exercise id -> JSON of the exercise (see ``alerts.store.exercises``) |
| ``{p}:exercise-observations:{id}`` | list | an exercise's evaluator observations (JSON), oldest first |
| ``{p}:replicated``            | hash     | inbox stream -> the last entry id acknowledged after ``WAIT`` confirmed it (``CRISIS_WAIT_REPLICAS``) |
| ``{p}:lease:{name}``          | string   | a job's lease (``escalation``, ``exercises``): ``<fencing number>:<token>`` (expires; ``alerts.store.lease``) |
| ``{p}:fencing:{name}``        | string   | the last fencing number handed out for that lease (``INCR``) |
| ``{p}:exercise-secret``       | string   | the key of the injects' HMAC mark (``alerts.store.inject_marks``) |
| ``{p}:record:archived``       | hash     | record stream name -> newest id copied to the archive files (see ``alerts.store.record``) |
| ``{p}:record:archive-lock``   | string   | held by the one process archiving and trimming the record streams (expires) |
| ``{p}:aar-ratings:{id}``      | hash     | an exercise's objective number -> JSON HSEEP rating ``{rating, note, by, at}`` |
| ``{p}:aar-improvements:{id}`` | hash     | an exercise's improvement plan: item id -> JSON ``{area, action, owner, due, status}`` |
"""
from __future__ import annotations

from dataclasses import dataclass

DEFAULT_PREFIX = "crisis"


def hash_tag(prefix: str) -> str | None:
    """The hash tag every key under ``prefix`` is placed by in a Redis Cluster, or None when it has none.

    A cluster hashes a key by the text between its first ``{`` and the first ``}`` after it, when that text is
    not empty (else by the whole key). The prefix starts every key, so when the prefix itself holds such a
    tag (``{crisis}``, ``ops{crisis}``), every key of the deployment is in that tag's one slot; otherwise the
    keys spread over the cluster. ``hash_tag("{crisis}") == "crisis"``; ``hash_tag("crisis")`` and
    ``hash_tag("{}crisis")`` are None.
    """
    start = prefix.find("{")
    end = prefix.find("}", start + 1) if start >= 0 else -1
    return prefix[start + 1:end] if end > start + 1 else None


@dataclass(frozen=True)
class Keys:
    """Every name under ``prefix`` (the table above; ``{p}`` is the prefix)."""

    prefix: str = DEFAULT_PREFIX

    @property
    def alerts_channel(self) -> str:
        """``{p}:alerts``, channel: producers PUBLISH raw alert payloads here (at-most-once)."""
        return f"{self.prefix}:alerts"

    @property
    def inbox(self) -> str:
        """``{p}:alerts:inbox``, stream: producers XADD ``payload=...`` here (durable, at-least-once)."""
        return f"{self.prefix}:alerts:inbox"

    @property
    def dead_letters(self) -> str:
        """``{p}:alerts:dead``, stream: refused payloads: ``payload``, ``reason``, ``via``, ``at``."""
        return f"{self.prefix}:alerts:dead"

    @property
    def events(self) -> str:
        """``{p}:events``, stream: the ordered record of accepted changes (``alert.created``...) that dashboards follow and replay."""
        return f"{self.prefix}:events"

    @property
    def ingest_group(self) -> str:
        """``{p}:ingest``, group: consumer group of ingest workers on the inbox stream."""
        return f"{self.prefix}:ingest"

    @property
    def audit(self) -> str:
        """``{p}:audit``, stream: the audit trail (see ``alerts.store.audit``)."""
        return f"{self.prefix}:audit"

    @property
    def users(self) -> str:
        """``{p}:users``, set: all user names."""
        return f"{self.prefix}:users"

    def user(self, name: str) -> str:
        """``{p}:user:{name}``, hash: a user: role, nation, clearance, argon2 password hash, disabled."""
        return f"{self.prefix}:user:{name}"

    def token(self, digest: str) -> str:
        """``{p}:token:{sha256}``, hash: an API token, stored by the SHA-256 of its secret."""
        return f"{self.prefix}:token:{digest}"

    @property
    def token_index(self) -> str:
        """``{p}:token-index``, hash: token id -> SHA-256 of the token (for revocation)."""
        return f"{self.prefix}:token-index"

    def user_tokens(self, name: str) -> str:
        """``{p}:tokens:{name}``, set: the token ids of a user."""
        return f"{self.prefix}:tokens:{name}"

    def session(self, digest: str) -> str:
        """``{p}:session:{sha256}``, hash: a web session (expires), by the SHA-256 of its cookie."""
        return f"{self.prefix}:session:{digest}"

    def login_failures(self, name: str, address: str) -> str:
        """``{p}:login-failures:{name}|{address}``, hash: failed sign-ins of a (user name, address) pair."""
        return f"{self.prefix}:login-failures:{name}|{address}"

    def rate(self, scope: str, subject: str) -> str:
        """``{p}:rate:{scope}:{subject}``, string: a GCRA rate limit's theoretical arrival time (expires)."""
        return f"{self.prefix}:rate:{scope}:{subject}"

    def audit_first(self, subject: str, bucket: int) -> str:
        """``{p}:audit-first:{subject}:{hour}``, string: an aggregated audit event was written in that hour."""
        return f"{self.prefix}:audit-first:{subject}:{bucket}"

    @property
    def audit_retention_lock(self) -> str:
        """``{p}:audit:retention-lock``, string: held by the process archiving and trimming the audit trail."""
        return f"{self.prefix}:audit:retention-lock"

    @property
    def accounts_generation(self) -> str:
        """``{p}:accounts:generation``, string: counter bumped by every change that can end or narrow access."""
        return f"{self.prefix}:accounts:generation"

    @property
    def releasability_requests(self) -> str:
        """``{p}:releasability-requests``, hash: request id -> JSON of a releasability change awaiting approval."""
        return f"{self.prefix}:releasability-requests"

    def alert(self, alert_id: str) -> str:
        """``{p}:alert:{id}``, string: one stored alert (JSON of ``StoredAlert``)."""
        return f"{self.prefix}:alert:{alert_id}"

    def identity(self, identity: str) -> str:
        """``{p}:identity:{identity}``, string: the key of the alert a producer identity names now (``key|epoch``)."""
        return f"{self.prefix}:identity:{identity}"

    def message(self, message_key: str) -> str:
        """``{p}:message:{identity@time}``, string: the alert a renewable message was counted against."""
        return f"{self.prefix}:message:{message_key}"

    @property
    def pending_refs(self) -> str:
        """``{p}:pending-refs``, hash: identity -> JSON list of references that arrived before it."""
        return f"{self.prefix}:pending-refs"

    @property
    def pending_refs_age(self) -> str:
        """``{p}:pending-refs:age``, zset: identity -> epoch of its first pending reference."""
        return f"{self.prefix}:pending-refs:age"

    @property
    def workers(self) -> str:
        """``{p}:workers``, hash: worker name -> JSON heartbeat."""
        return f"{self.prefix}:workers"

    @property
    def alert_pattern(self) -> str:
        """``{p}:alert:*``, pattern matching every stored alert's key (for SCAN)."""
        return f"{self.prefix}:alert:*"

    def checklist(self, alert_id: str) -> str:
        """``{p}:checklist:{id}``, string: one alert's checklist (JSON: steps with due times), set once."""
        return f"{self.prefix}:checklist:{alert_id}"

    def checklist_done(self, alert_id: str) -> str:
        """``{p}:checklist-done:{id}``, hash: step number -> JSON ``{by, at, note}``, set once per step."""
        return f"{self.prefix}:checklist-done:{alert_id}"

    @property
    def acks(self) -> str:
        """``{p}:acks``, hash: alert id -> JSON ``{by, at}`` of its one acknowledgment."""
        return f"{self.prefix}:acks"

    @property
    def resolutions(self) -> str:
        """``{p}:resolutions``, hash: alert id -> JSON ``{by, at, note}`` of its resolution."""
        return f"{self.prefix}:resolutions"

    @property
    def escalation(self) -> str:
        """``{p}:escalation``, hash: alert id -> JSON ``{level, reason, at}``, the level reached."""
        return f"{self.prefix}:escalation"

    @property
    def open_cases(self) -> str:
        """``{p}:open-cases``, set: ids of alerts whose response is open (what escalation watches)."""
        return f"{self.prefix}:open-cases"

    @property
    def escalations_channel(self) -> str:
        """``{p}:escalations``, channel: JSON escalation messages (see ``alerts.core.escalation``)."""
        return f"{self.prefix}:escalations"

    @property
    def assets_channel(self) -> str:
        """``{p}:assets``, channel: producers PUBLISH asset positions/status (at-most-once)."""
        return f"{self.prefix}:assets"

    @property
    def assets_inbox(self) -> str:
        """``{p}:assets:inbox``, stream: producers XADD asset ``payload=...`` here (durable)."""
        return f"{self.prefix}:assets:inbox"

    @property
    def assets_dead(self) -> str:
        """``{p}:assets:dead``, stream: refused asset payloads: ``payload``, ``reason``, ``via``, ``at``."""
        return f"{self.prefix}:assets:dead"

    @property
    def assets_events(self) -> str:
        """``{p}:assets:events``, stream: every change to an asset (``asset.updated``, JSON ``asset``), followed for live push."""
        return f"{self.prefix}:assets:events"

    @property
    def asset_state(self) -> str:
        """``{p}:asset-state``, hash: asset id -> JSON of the ``Asset`` (see ``alerts.store.assets``)."""
        return f"{self.prefix}:asset-state"

    @property
    def assets_ingest_group(self) -> str:
        """``{p}:assets-ingest``, group: consumer group of asset ingest workers on the asset inbox."""
        return f"{self.prefix}:assets-ingest"

    @property
    def exercises(self) -> str:
        """``{p}:exercises``, hash: exercise id -> JSON of the exercise (see ``alerts.store.exercises``)."""
        return f"{self.prefix}:exercises"

    def exercise_observations(self, exercise_id: str) -> str:
        """``{p}:exercise-observations:{id}``, list: an exercise's evaluator observations (JSON), oldest first."""
        return f"{self.prefix}:exercise-observations:{exercise_id}"

    @property
    def replicated(self) -> str:
        """``{p}:replicated``, hash: inbox stream -> the last entry id acknowledged after ``WAIT`` confirmed it
        (``CRISIS_WAIT_REPLICAS``)."""
        return f"{self.prefix}:replicated"

    def lease(self, name: str) -> str:
        """``{p}:lease:{name}``, string: a job's lease (``escalation``, ``exercises``): ``<fencing number>:<token>``
        (expires; ``alerts.store.lease``)."""
        return f"{self.prefix}:lease:{name}"

    def fencing(self, name: str) -> str:
        """``{p}:fencing:{name}``, string: the last fencing number handed out for that lease (``INCR``)."""
        return f"{self.prefix}:fencing:{name}"

    @property
    def exercise_secret(self) -> str:
        """``{p}:exercise-secret``, string: the key of the injects' HMAC mark (``alerts.store.inject_marks``)."""
        return f"{self.prefix}:exercise-secret"

    @property
    def device_secret(self) -> str:
        """``{p}:device-secret``, string: the key that signs device cookies and sign-in forms
        (``alerts.store.devices``)."""
        return f"{self.prefix}:device-secret"

    def devices(self, name: str) -> str:
        """``{p}:devices:{name}``, sorted set: the nonces of a user's device cookies, scored by when each was
        issued (epoch seconds; expires with the newest)."""
        return f"{self.prefix}:devices:{name}"

    @property
    def record_archived(self) -> str:
        """``{p}:record:archived``, hash: record stream name -> newest id copied to the archive files."""
        return f"{self.prefix}:record:archived"

    @property
    def record_archive_lock(self) -> str:
        """``{p}:record:archive-lock``, string: held by the process archiving and trimming the record streams."""
        return f"{self.prefix}:record:archive-lock"

    def aar_ratings(self, exercise_id: str) -> str:
        """``{p}:aar-ratings:{id}``, hash: objective number -> JSON HSEEP rating ``{rating, note, by, at}``."""
        return f"{self.prefix}:aar-ratings:{exercise_id}"

    def aar_improvements(self, exercise_id: str) -> str:
        """``{p}:aar-improvements:{id}``, hash: improvement plan item id -> JSON of the item."""
        return f"{self.prefix}:aar-improvements:{exercise_id}"
