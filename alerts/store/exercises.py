"""Exercises in Redis: the records, firing injects exactly once, the scheduler lease, observations.

| key                                  | kind   | holds                                                         |
|--------------------------------------|--------|---------------------------------------------------------------|
| ``{p}:exercises``                    | hash   | exercise id -> JSON of ``alerts.core.exercises.Exercise``      |
| ``{p}:exercise-observations:{id}``   | list   | an exercise's evaluator observations, JSON, oldest first       |
| ``{p}:lease:exercises``              | string | the scheduler lease (``alerts.store.lease``)                  |

**Exactly once.** ``fire`` is one Lua script: if the record is still what the caller read, it writes the
new record (the injects marked fired) *and* XADDs their alert documents to the inbox stream, or does
neither. Each entry carries the scheduler's ``mark`` (``alerts.store.inject_marks``), so ingest can tell
an inject from a producer's message claiming to be one. Two schedulers (two server processes) that read the same record cannot both fire an inject: the
second write finds the record changed, rereads, and the inject is no longer pending. A process that dies
before the script ran fired nothing; after, everything. The scheduler's lease (``alerts.store.lease``) keeps
one process scheduling at a time, so the others do not spin on a changed record; it is not what makes
firing safe. Given the lease's ``Fence``, ``fire`` writes nothing once that lease no longer holds
(``StaleFence``).
"""
from __future__ import annotations

import json
import secrets
from collections.abc import Callable

from alerts.core.exercises import Exercise
from alerts.core.refusals import N_, Refused
from alerts.store.cas import HashRecords, compare_and_set
from alerts.store.client import Client, text
from alerts.store.inject_marks import InjectMarks
from alerts.store.keys import Keys
from alerts.store.lease import FENCE_CHECK, Fence, StaleFence, fence_args
from alerts.store.producer import INBOX_MAXLEN

# KEYS[1] exercises hash, KEYS[2] inbox stream, KEYS[3] the scheduler lease; ARGV[1] id, ARGV[2] expected
# JSON, ARGV[3] new JSON, ARGV[4] inbox maxlen, ARGV[5] the fence ('' for none), ARGV[6..] alert documents
# to send, each followed by its mark. Returns 1 if written, 0 if the record changed, -1 if the fence is stale.
_FIRE = FENCE_CHECK.format(key=3, value=5) + """
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
for i = 6, #ARGV, 2 do
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', 'payload', ARGV[i], 'mark', ARGV[i + 1])
end
return 1
"""


def new_exercise_id() -> str:
    """A fresh exercise id: ``ex-`` and 8 hex digits."""
    return "ex-" + secrets.token_hex(4)


class ExerciseStore:
    """Exercise records and what belongs to them (the key table above)."""

    def __init__(self, client: Client, keys: Keys):
        self.client = client
        self.keys = keys
        self._fire = client.register_script(_FIRE)
        self._records = HashRecords(client, keys.exercises, Exercise.model_validate_json, "exercise")
        self._parsed: dict[bytes, Exercise] = {}
        self.marks = InjectMarks(client, keys)

    def add(self, exercise: Exercise) -> None:
        """Store a new exercise; ``Refused`` (a ValueError) if its id exists."""
        if not self.client.hsetnx(self.keys.exercises, exercise.id, exercise.model_dump_json()):
            raise Refused(N_("exercise %(exercise)s exists"), {"exercise": repr(exercise.id)})

    def get(self, exercise_id: str) -> Exercise | None:
        """One exercise, or None."""
        raw = self.client.hget(self.keys.exercises, exercise_id)
        return Exercise.model_validate_json(raw) if raw else None

    def all(self) -> list[Exercise]:
        """Every exercise, newest STARTEX first (planned ones, not started, first).

        Read twice a second by the scheduler and every few seconds by each open page's band: a record is
        parsed again only when its JSON changed (ended exercises with their MSELs stay parsed)."""
        raws = self.client.hvals(self.keys.exercises)
        parsed = {raw: self._parsed.get(raw) or Exercise.model_validate_json(raw) for raw in raws}
        self._parsed = parsed
        found = list(parsed.values())
        return sorted(found, key=lambda e: (e.startex is None, e.startex.timestamp() if e.startex else 0, e.id),
                      reverse=True)

    def change(self, exercise_id: str, change: Callable[[Exercise], Exercise | None]
               ) -> tuple[Exercise, Exercise] | None:
        """Apply ``change`` atomically (``alerts.store.cas.compare_and_set``): ``(before, after)``, or None if
        there is no such exercise. ``change`` may raise (e.g. ``ExerciseStateError``) to refuse."""
        return self._records.change(exercise_id, change)

    def fire(self, exercise_id: str, change: Callable[[Exercise], tuple[Exercise, list[str]] | None],
             fence: Fence | None = None) -> tuple[Exercise, Exercise, list[str]] | None:
        """Fire injects exactly once: ``change(exercise)`` gives the exercise with injects marked fired and
        the alert documents (JSON text) to send, or None for nothing to do; both are written in one script.
        Returns ``(before, after, documents sent)``, or None when there is no such exercise. With ``fence``
        (the scheduler's lease), ``StaleFence`` and nothing written once that lease no longer holds."""
        sent: list[str] = []

        def apply(before: Exercise) -> Exercise | None:
            result = change(before)
            if result is None:
                return None
            after, documents = result
            sent[:] = documents
            return after

        def write(after: Exercise, raw: bytes) -> bool:
            marked = [part for document in sent for part in (document, self.marks.sign(document))]
            lease_key, fence_value = fence_args(fence, self.keys.lease("exercises"))
            done = self._fire(keys=[self.keys.exercises, self.keys.inbox, lease_key],
                              args=[exercise_id, raw, after.model_dump_json(), INBOX_MAXLEN, fence_value, *marked])
            if done == -1:
                raise StaleFence(f"injects of exercise {exercise_id} not fired: the scheduler lease of fencing "
                                 f"number {fence.number if fence else '?'} no longer holds")
            return bool(done)

        done = compare_and_set(read=lambda: self.client.hget(self.keys.exercises, exercise_id),
                               parse=Exercise.model_validate_json, change=apply, write=write,
                               what=f"exercise {exercise_id!r}")
        if done is None:
            return None
        before, after = done
        return before, after, (list(sent) if after is not before else [])

    def add_observation(self, exercise_id: str, observation: dict) -> int:
        """Append an observation (JSON-able dict); returns how many the exercise has."""
        return int(self.client.rpush(self.keys.exercise_observations(exercise_id), json.dumps(observation)))

    def observations(self, exercise_id: str) -> list[dict]:
        """The exercise's observations, oldest first."""
        return [json.loads(text(r)) for r in self.client.lrange(self.keys.exercise_observations(exercise_id), 0, -1)]
