"""The exercise scheduler's mark on the injects it puts on the inbox stream: an HMAC no producer can forge.

Producers write the alert inbox (``{p}:alerts:inbox``, field ``payload``), and nothing in a payload can
prove that the exercise scheduler sent it: any producer could claim ``exercise_id`` and ``inject`` and be
scored as an inject. So the scheduler (``alerts.store.exercises.ExerciseStore.fire``) adds a field
``mark`` to each inject's entry: HMAC-SHA256 (RFC 2104) of the payload bytes under a server secret, 32
random bytes kept at ``{p}:exercise-secret`` (created once, ``SET NX``, shared by every server process).
The alert ingest worker (``alerts.ingest.workers.StreamIngest``) hands a payload on as an inject only
when its mark verifies; everything else loses its exercise id and inject number
(``alerts.ingest.alerts``). A producer that can read that key (full Redis access) is trusted anyway;
deployments give producers only ``XADD`` on the inbox (Redis ACL).
"""
from __future__ import annotations

import hashlib
import hmac
import secrets

from alerts.store.client import Client, text
from alerts.store.keys import Keys

#: The stream field that carries the mark.
MARK_FIELD = "mark"


class InjectMarks:
    """Sign and verify inject payloads with the deployment's secret (read once per instance)."""

    def __init__(self, client: Client, keys: Keys):
        self.client = client
        self.keys = keys
        self._secret: bytes | None = None

    def secret(self) -> bytes:
        """The shared secret (bytes), created on first use by whichever process comes first."""
        if self._secret is None:
            self.client.set(self.keys.exercise_secret, secrets.token_hex(32), nx=True)
            self._secret = text(self.client.get(self.keys.exercise_secret)).encode("ascii")
        return self._secret

    def sign(self, payload: bytes | str) -> str:
        """The mark of ``payload`` (64 hex digits)."""
        raw = payload.encode("utf-8") if isinstance(payload, str) else payload
        return hmac.new(self.secret(), raw, hashlib.sha256).hexdigest()

    def verify(self, payload: bytes, mark: bytes | str | None) -> bool:
        """Whether ``mark`` is ``payload``'s (constant-time); False for no mark or a malformed one."""
        if not mark:
            return False
        given = mark.decode("ascii", "replace") if isinstance(mark, bytes) else mark
        return hmac.compare_digest(self.sign(payload), given)
