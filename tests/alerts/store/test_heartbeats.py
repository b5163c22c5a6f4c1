"""Worker heartbeats on a real Redis: a restarted worker replaces its dead run, long-silent entries go."""
from __future__ import annotations

import json
import time

from alerts.store.heartbeats import PRUNE_AFTER_SECONDS, Heartbeat, consumer_and_role, workers


def left_behind(client, keys, name: str, beat: float) -> None:
    """The entry of a worker that died (it never removed it)."""
    client.hset(keys.workers, name, json.dumps({"state": "running", "beat": beat, "since": beat, "error": "",
                                                "stream": keys.inbox, "host": "h", "pid": 1, "counts": {}}))


def test_hbt001_a_starting_worker_replaces_its_consumer_and_roles_dead_run_and_prunes_day_old_entries(client, keys):
    now = time.time()
    left_behind(client, keys, "ingest-a/111/ingest-stream", now - 100)  # killed; restarted below as pid 222
    left_behind(client, keys, "ingest-a/111/ingest-channel", now - 100)  # the other role: its own restart
    left_behind(client, keys, "ingest-b/333/ingest-stream", now - 100)  # another host's worker, stalled
    left_behind(client, keys, "ingest-c/444/ingest-stream", now - PRUNE_AFTER_SECONDS - 1)  # a host gone a day
    left_behind(client, keys, "not-a-worker-name", now - 100)
    Heartbeat(client, keys, "ingest-a/222/ingest-stream", keys.inbox).beat()
    assert sorted(workers(client, keys)) == ["ingest-a/111/ingest-channel", "ingest-a/222/ingest-stream",
                                             "ingest-b/333/ingest-stream", "not-a-worker-name"]


def test_hbt002_only_the_first_beat_clears_so_a_sibling_that_beats_again_comes_back(client, keys):
    mine = Heartbeat(client, keys, "ingest-a/1/ingest-stream", keys.inbox)
    sibling = Heartbeat(client, keys, "ingest-a/2/ingest-stream", keys.inbox)
    sibling.beat()
    mine.beat()  # a second process with the same consumer name starts: the sibling's entry is cleared...
    sibling.beat("running", force=True)  # ...and written back by its next beat
    mine.beat("running", force=True)
    assert sorted(workers(client, keys)) == ["ingest-a/1/ingest-stream", "ingest-a/2/ingest-stream"]


def test_hbt003_worker_names_are_consumer_pid_role():
    assert consumer_and_role("ingest-host/4242/asset-ingest-stream") == ("ingest-host", "asset-ingest-stream")
    assert consumer_and_role("a/b/4242/ingest-stream") == ("a/b", "ingest-stream")  # a consumer name with a slash
    assert consumer_and_role("host/1/ingest-stream".replace("1", "x")) is None
    assert consumer_and_role("plain") is None


def test_hbt004_an_entry_that_is_not_json_reads_as_empty(client, keys):
    client.hset(keys.workers, "broken", b"\xff not json")
    assert workers(client, keys) == {"broken": {}}
