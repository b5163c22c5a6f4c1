"""Settings, read once at start-up from the command line and the environment.

``SETTINGS`` is the one table of every setting: its field, command-line flag,
environment variable, default and meaning. ``Settings.from_env`` reads it, the
README's settings table is checked against it (``tests/test_docs.py``), and
nothing else in the app reads the environment.
"""
from __future__ import annotations

import ipaddress
import math
import os
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from alerts.core.escalation import EscalationPolicy
from alerts.core.markings import Classifications
from alerts.core.rates import Rate
from alerts.store.client import check_prefix

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Setting:
    """One row of the settings table (``flag`` and ``env`` may be empty: not settable that way)."""

    name: str
    flag: str
    env: str
    default: str
    meaning: str


SETTINGS: tuple[Setting, ...] = (
    Setting("host", "--host", "CRISIS_HOST", "127.0.0.1", "address the web server listens on"),
    Setting("port", "--port", "CRISIS_PORT", "8050", "port the web server listens on"),
    Setting("tls_certfile", "--certfile", "CRISIS_TLS_CERTFILE", "(none: plain HTTP)",
            "PEM certificate (chain) to serve HTTPS with; needs `--keyfile` (see [Running behind TLS](#running-behind-tls))"),
    Setting("tls_keyfile", "--keyfile", "CRISIS_TLS_KEYFILE", "(none)", "PEM private key of `--certfile`"),
    Setting("hsts_seconds", "", "CRISIS_HSTS_SECONDS", "31536000",
            "`Strict-Transport-Security` max-age sent on HTTPS responses (seconds; 0: none)"),
    Setting("max_request_bytes", "", "CRISIS_MAX_REQUEST_BYTES", "262144",
            "largest request body the web server reads (bytes); a larger one is answered 413"),
    Setting("max_streams_per_user", "", "CRISIS_MAX_STREAMS_PER_USER", "4",
            "live streams of each kind (`/live/map`, `/live/alerts`, `/live/assets`, `/live/alarm`) one user may "
            "hold in a server process (each page holds one: see Pages); one more closes that user's oldest"),
    Setting("live_ping_seconds", "", "CRISIS_LIVE_PING", "15",
            "a quiet live stream sends `event: ping` this often (seconds); the map marks its feed stale and "
            "reconnects after three intervals without any event"),
    Setting("live_max_lag_seconds", "", "CRISIS_LIVE_MAX_LAG", "30",
            "a live stream whose oldest undelivered event is older than this (seconds; above 0) has its backlog "
            "dropped and is sent `event: rebuild` (the map rebuilds its picture), so a slow browser costs the "
            "server a bounded backlog"),
    Setting("max_streams", "", "CRISIS_MAX_STREAMS", "200",
            "live streams a server process holds in all; beyond it a new one is answered 503"),
    Setting("map_points_max", "", "CRISIS_MAP_POINTS_MAX", "10000",
            "most incidents the live map draws as points; when more match the filters, only those in view (and a "
            "margin) are drawn, and when those are still more, grid cells with counts instead (see "
            "[docs/map.md](docs/map.md))"),
    Setting("redis_url", "--redis-url", "REDIS_URL", "(none: the embedded Valkey)",
            "Redis or Valkey to use (`redis://`, `rediss://`, `unix://`, through Sentinel: "
            "`redis+sentinel://HOST:PORT[,HOST:PORT...]/MASTER_NAME[/DB]`, or a cluster: "
            "`redis+cluster://HOST:PORT[,HOST:PORT...]` (`rediss+cluster://` for TLS) with a `{tag}` prefix; see "
            "[docs/ha.md](docs/ha.md))"),
    Setting("redis_timeout_seconds", "", "CRISIS_REDIS_TIMEOUT", "10",
            "longest wait for one Redis command (seconds); a server that does not answer in time counts as "
            "unreachable (degraded mode), not as a request that hangs"),
    Setting("data_dir", "--data-dir", "CRISIS_DATA_DIR", "./data", "where the embedded Valkey keeps its data"),
    Setting("prefix", "--prefix", "CRISIS_PREFIX", "crisis",
            "prefix of every Redis key, channel and stream; on a Redis Cluster a hash tag such as `{crisis}`"),
    Setting("classifications", "", "CRISIS_CLASSIFICATIONS", "UNCLASSIFIED,RESTRICTED,CONFIDENTIAL,SECRET",
            "classification levels, lowest first (markings, clearances; the lowest is the default)"),
    Setting("feeds_file", "", "CRISIS_FEEDS", "(none)",
            "feed registry (TOML, see `docs/feeds.example.toml`); without one, only messages that state "
            "their own releasability are routed"),
    Setting("trusted_proxies", "", "CRISIS_TRUSTED_PROXIES", "(none)",
            "addresses or networks (comma-separated, e.g. `10.0.0.5,fd00::/64`) of reverse proxies whose "
            "`X-Forwarded-For` and `X-Forwarded-Proto` are believed; from any other peer they are ignored"),
    Setting("login_max_failures", "", "CRISIS_LOGIN_MAX_FAILURES", "5",
            "failed sign-ins of one user name from one client address that lock that pair"),
    Setting("login_lockout_seconds", "", "CRISIS_LOGIN_LOCKOUT", "900",
            "how long a locked (user name, address) pair stays locked after its last failure (seconds)"),
    Setting("login_rate", "", "CRISIS_LOGIN_RATE", "20/minute",
            "sign-in attempts per client address (a burst of that many, then evenly spread); more: 429"),
    Setting("login_rate_global", "", "CRISIS_LOGIN_RATE_GLOBAL", "600/minute",
            "sign-in attempts from all addresses together; past it an attempt from a browser without a device "
            "cookie for that user name is answered 429 without checking the password (a device cookie holder "
            "is still checked)"),
    Setting("login_account_failures", "", "CRISIS_LOGIN_ACCOUNT_FAILURES", "50/hour",
            "failed sign-ins of one user name from all addresses together (a budget of that many, refilled "
            "evenly); past it an attempt for that name from a browser without a device cookie for it is "
            "answered 429 without checking the password (see [throttling](#users-roles-and-releasability))"),
    Setting("login_checks", "", "CRISIS_LOGIN_CHECKS", "4",
            "sign-ins (argon2 password checks) a server process runs at once, in their own threads; as many "
            "more may wait, and one more is answered 503 with `Retry-After` at once (signed-in requests never "
            "wait behind sign-ins); browsers holding a device cookie for the name they sign in as have a second "
            "lane of the same size, which unknown clients cannot fill"),
    Setting("api_rate", "", "CRISIS_API_RATE", "1200/minute",
            "requests per API token or web session (API, pages, callbacks, live streams); more: 429"),
    Setting("audit_retention_days", "", "CRISIS_AUDIT_RETENTION_DAYS", "400",
            "audit entries older than this (days) are archived, then trimmed from the stream"),
    Setting("record_retention_days", "", "CRISIS_RECORD_RETENTION_DAYS", "400",
            "alert and asset events (the record that replay and the AAR read) older than this (days) are "
            "trimmed from their streams; every event is archived first, within a minute of being recorded"),
    Setting("record_archive_dir", "", "CRISIS_RECORD_ARCHIVE_DIR", "<data_dir>/record",
            "where the alert and asset events are archived (a folder per key prefix, one JSON Lines file per stream "
            "and day)"),
    Setting("audit_max_entries", "", "CRISIS_AUDIT_MAX_ENTRIES", "1000000",
            "the audit stream keeps at most this many entries; the oldest beyond are archived, then trimmed"),
    Setting("audit_archive_dir", "", "CRISIS_AUDIT_ARCHIVE_DIR", "<data_dir>/audit",
            "where trimmed audit entries are archived (one JSON Lines file per day)"),
    Setting("max_payload_bytes", "", "CRISIS_MAX_PAYLOAD", "1048576", "largest payload ingest accepts (bytes)"),
    Setting("escalation_minutes", "", "CRISIS_ESCALATION_MINUTES", "critical=2,high=5,medium=15,low=60",
            "acknowledgment deadlines by severity, in minutes"),
    Setting("escalation_tick_seconds", "", "CRISIS_ESCALATION_TICK", "5",
            "how often the escalation monitor checks for escalations (seconds)"),
    Setting("escalation_recheck_seconds", "", "CRISIS_ESCALATION_RECHECK", "60",
            "how long at most the escalation monitor leaves unread a case with nothing due before its next "
            "deadline (seconds; a change no deadline foresees, e.g. a checklist edited in Redis, is seen within it)"),
    Setting("wait_replicas", "", "CRISIS_WAIT_REPLICAS", "0",
            "replicas every ingest write must reach (Redis `WAIT`) before the inbox entry is acknowledged, and "
            "that `crisisdash publish --stream` waits for (it exits 1 when fewer confirm); 0: no wait (see "
            "[docs/ha.md](docs/ha.md))"),
    Setting("wait_timeout_seconds", "", "CRISIS_WAIT_TIMEOUT", "1",
            "longest `WAIT` for those replicas (seconds); fewer in time: the entries stay pending and ingest "
            "retries"),
    Setting("lease_seconds", "", "CRISIS_LEASE_SECONDS", "15",
            "lease of the escalation monitor and the exercise scheduler, which run in one server process of a "
            "deployment at a time: another takes over within this long of the holder's death (seconds; at "
            "least three escalation ticks are used)"),
    Setting("max_clock_skew_seconds", "", "CRISIS_MAX_CLOCK_SKEW", "120",
            "an asset report or a CoT emergency or cancel dated further ahead of the centre's clock than this "
            "(seconds) is refused; an asset report ahead by less is dated now"),
    Setting("memory_horizon_seconds", "", "CRISIS_MEMORY_HORIZON", "604800",
            "a closed (resolved, cancelled, expired) alert leaves each server process's in-memory picture this "
            "long after it closed (seconds; default 7 days): lists, maps and summaries cover open alerts and "
            "those closed within it, an older one is still read by id from Redis (see "
            "[Memory](#memory-the-horizon)); `inf` (or a span longer than dates reach back) never evicts"),
    Setting("replay_idle_seconds", "", "CRISIS_REPLAY_IDLE", "900",
            "a server process reads the record that replay, the timeline and the AAR rebuild from into memory "
            "when one of them is first used, and forgets it after this long unused (seconds; the next use reads "
            "it again); `inf`: once read, kept"),
    Setting("consumer", "", "CRISIS_CONSUMER", "ingest-<hostname>",
            "consumer name of this host's ingest workers in the consumer groups (keep it stable across restarts)"),
    Setting("restart_backoff_seconds", "", "CRISIS_RESTART_BACKOFF", "0.5",
            "first wait before a dead background thread or the embedded Valkey is restarted (seconds; "
            "doubles with each failure in a row)"),
    Setting("restart_backoff_max_seconds", "", "CRISIS_RESTART_BACKOFF_MAX", "30",
            "longest wait between restarts of a dead background thread or the embedded Valkey (seconds)"),
    Setting("retry_after_seconds", "", "CRISIS_RETRY_AFTER", "5",
            "`Retry-After` of the 503 answered while Redis is unreachable (seconds; pages retry this often)"),
    Setting("cot_listen", "", "CRISIS_COT_LISTEN", "(none: no CoT listener)",
            "CoT listener `serve` runs (see [TAK](#tak-cursor-on-target-in)): comma-separated `tcp=[HOST:]PORT`, "
            "`tls=[HOST:]PORT`, `udp=ADDR:PORT`, e.g. `tcp=8087,udp=239.2.3.1:6969`; needs `CRISIS_COT_FEED`"),
    Setting("cot_feed", "", "CRISIS_COT_FEED", "(none)",
            "name of the `[[feeds]]` entry (in `CRISIS_FEEDS`) whose messages the CoT listener receives; "
            "an unknown name stops `serve`"),
    Setting("cot_tls_certfile", "", "CRISIS_COT_TLS_CERTFILE", "(none)",
            "PEM certificate (chain) of the CoT listener's `tls=` endpoint"),
    Setting("cot_tls_keyfile", "", "CRISIS_COT_TLS_KEYFILE", "(none)", "PEM private key of the CoT certificate"),
    Setting("cot_tls_cafile", "", "CRISIS_COT_TLS_CAFILE", "(none)",
            "PEM CA certificate(s) a TAK client's certificate must be signed by (`tls=` requires one)"),
    Setting("cot_max_connections", "", "CRISIS_COT_MAX_CONNECTIONS", "200",
            "open connections the CoT listener serves on each of TCP and TLS; one more waits unread up to 10 s "
            "for a slot, then is closed (logged, counted)"),
    Setting("cot_max_per_address", "", "CRISIS_COT_MAX_PER_ADDRESS", "16",
            "open connections from one client address, on each of TCP and TLS; one more waits like the above"),
    Setting("cot_address_bytes_per_second", "", "CRISIS_COT_ADDRESS_RATE", "4194304",
            "bytes per second one client address may send the CoT listener on each of TCP, TLS and UDP: past it "
            "a connection is read no further until the budget allows, a datagram is refused (counted)"),
    Setting("cot_endpoint_bytes_per_second", "", "CRISIS_COT_ENDPOINT_RATE", "16777216",
            "bytes per second all clients together may send each of the CoT listener's TCP, TLS and UDP "
            "endpoints (as above); both bound how fast unauthenticated senders can fill Redis"),
    Setting("cot_message_timeout_seconds", "", "CRISIS_COT_MESSAGE_TIMEOUT", "30",
            "a CoT message begun must be complete within this long, or its connection is closed (seconds)"),
    Setting("cot_read_timeout_seconds", "", "CRISIS_COT_READ_TIMEOUT", "120",
            "a CoT connection that sends nothing for this long is closed (seconds; TAK clients ping well within)"),
)


@dataclass(frozen=True)
class Settings:
    """The settings of one process (see ``SETTINGS`` for each one's flag, variable and meaning)."""

    host: str = "127.0.0.1"
    port: int = 8050
    tls_certfile: Path | None = None
    tls_keyfile: Path | None = None
    hsts_seconds: int = 31_536_000
    max_request_bytes: int = 262_144
    max_streams_per_user: int = 4
    max_streams: int = 200
    live_ping_seconds: float = 15.0
    live_max_lag_seconds: float = 30.0
    map_points_max: int = 10_000
    redis_url: str | None = None
    redis_timeout_seconds: float = 10.0
    data_dir: Path = Path("data")
    prefix: str = "crisis"
    demo: bool = False
    run_ingest: bool = True
    classifications: str = "UNCLASSIFIED,RESTRICTED,CONFIDENTIAL,SECRET"
    feeds_file: Path | None = None
    trusted_proxies: str = ""
    login_max_failures: int = 5
    login_lockout_seconds: float = 900.0
    login_rate: str = "20/minute"
    login_rate_global: str = "600/minute"
    login_account_failures: str = "50/hour"
    login_checks: int = 4
    api_rate: str = "1200/minute"
    audit_retention_days: float = 400.0
    record_retention_days: float = 400.0
    record_archive_dir: Path | None = None
    audit_max_entries: int = 1_000_000
    audit_archive_dir: Path | None = None
    max_payload_bytes: int = 1_048_576
    escalation_minutes: str = "critical=2,high=5,medium=15,low=60"
    escalation_tick_seconds: float = 5.0
    escalation_recheck_seconds: float = 60.0
    lease_seconds: float = 15.0
    wait_replicas: int = 0
    wait_timeout_seconds: float = 1.0
    max_clock_skew_seconds: float = 120.0
    memory_horizon_seconds: float = 604800.0
    replay_idle_seconds: float = 900.0
    consumer: str | None = None
    restart_backoff_seconds: float = 0.5
    restart_backoff_max_seconds: float = 30.0
    retry_after_seconds: int = 5
    cot_listen: str = ""
    cot_feed: str = ""
    cot_tls_certfile: Path | None = None
    cot_tls_keyfile: Path | None = None
    cot_tls_cafile: Path | None = None
    cot_max_connections: int = 200
    cot_max_per_address: int = 16
    cot_address_bytes_per_second: int = 4_194_304
    cot_endpoint_bytes_per_second: int = 16_777_216
    cot_message_timeout_seconds: float = 30.0
    cot_read_timeout_seconds: float = 120.0
    assets_dir: Path = field(default=PROJECT_ROOT / "assets")
    checklists_dir: Path = field(default=PROJECT_ROOT / "checklists")

    @property
    def escalation_policy(self) -> EscalationPolicy:
        """The acknowledgment deadlines (``alerts.core.escalation.EscalationPolicy``)."""
        return EscalationPolicy.parse(self.escalation_minutes)

    @property
    def scheme(self) -> Classifications:
        """The classification levels (``alerts.core.markings.Classifications``)."""
        return Classifications.parse(self.classifications)

    @property
    def trusted_proxy_list(self) -> list[str]:
        """``trusted_proxies`` as a list of addresses/networks; raises ``ValueError`` for one that is neither."""
        found = [item.strip() for item in self.trusted_proxies.split(",") if item.strip()]
        for item in found:
            ipaddress.ip_network(item, strict=False)
        return found

    @property
    def memory_horizon(self) -> timedelta | None:
        """``memory_horizon_seconds`` as the read model's horizon (``alerts.core.index.AlertIndex``): None (never
        evict) for ``inf`` and for a span longer than dates reach back from now (before year 1: no alert can be
        that old), else a ``timedelta``."""
        seconds = self.memory_horizon_seconds
        reach = (datetime.now(UTC) - datetime.min.replace(tzinfo=UTC)).total_seconds()
        if not math.isfinite(seconds) or seconds >= reach:
            return None
        return timedelta(seconds=seconds)

    @property
    def replay_idle(self) -> timedelta | None:
        """``replay_idle_seconds`` as ``alerts.actions.centre.Centre.record_idle``: None (never forget) for
        ``inf`` and for a span longer than a ``timedelta`` holds (about 2.7 million years), else a ``timedelta``."""
        seconds = self.replay_idle_seconds
        if not math.isfinite(seconds) or seconds >= timedelta.max.total_seconds():
            return None
        return timedelta(seconds=seconds)

    @property
    def audit_archive(self) -> Path:
        """Where trimmed audit entries are archived: ``audit_archive_dir``, else ``<data_dir>/audit``."""
        return self.audit_archive_dir or Path(self.data_dir) / "audit"

    @property
    def record_archive(self) -> Path:
        """Where the record's alert and asset events are archived: ``record_archive_dir``, else ``<data_dir>/record``."""
        return self.record_archive_dir or Path(self.data_dir) / "record"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides) -> "Settings":
        """Settings from ``environ`` (default ``os.environ``) per ``SETTINGS``, then non-None ``overrides``.

        Raises ``ValueError`` naming the variable for a value that cannot be used.
        """
        env = os.environ if environ is None else environ
        types = {f.name: f.type for f in fields(cls)}
        values = {}
        for setting in SETTINGS:
            raw = env.get(setting.env)
            if raw is None or raw == "":
                continue
            kind = types[setting.name]
            try:
                values[setting.name] = (int(raw) if kind == "int" else float(raw) if kind == "float"
                                        else Path(raw) if kind in ("Path", "Path | None") else raw)
            except ValueError:
                raise ValueError(f"{setting.env}={raw!r}: not a valid {kind}") from None
            if kind == "float" and math.isnan(values[setting.name]):
                raise ValueError(f"{setting.env}={raw!r}: not a number")
        settings = cls(**values)
        try:
            settings.scheme  # noqa: B018  (fail fast on a bad CRISIS_CLASSIFICATIONS)
        except ValueError as exc:
            raise ValueError(f"CRISIS_CLASSIFICATIONS: {exc}") from None
        try:
            settings.escalation_policy  # noqa: B018  (fail fast on a bad CRISIS_ESCALATION_MINUTES)
        except ValueError as exc:
            raise ValueError(f"CRISIS_ESCALATION_MINUTES: {exc}") from None
        for name in ("login_rate", "login_rate_global", "login_account_failures", "api_rate"):
            try:
                Rate.parse(getattr(settings, name))
            except ValueError as exc:
                raise ValueError(f"{_env_of(name)}: {exc}") from None
        if not settings.memory_horizon_seconds > 0:  # also refuses nan
            raise ValueError(f"CRISIS_MEMORY_HORIZON={settings.memory_horizon_seconds!r}: must be above 0 seconds "
                             "(inf: never evict)")
        if not settings.replay_idle_seconds > 0:  # also refuses nan
            raise ValueError(f"CRISIS_REPLAY_IDLE={settings.replay_idle_seconds!r}: must be above 0 seconds "
                             "(inf: never forget)")
        if settings.map_points_max < 0:
            raise ValueError(f"CRISIS_MAP_POINTS_MAX={settings.map_points_max!r}: must be 0 or more")
        if not settings.live_max_lag_seconds > 0:  # also refuses nan
            raise ValueError(f"CRISIS_LIVE_MAX_LAG={settings.live_max_lag_seconds!r}: must be above 0 seconds")
        try:
            settings.trusted_proxy_list  # noqa: B018  (fail fast on a bad CRISIS_TRUSTED_PROXIES)
        except ValueError as exc:
            raise ValueError(f"CRISIS_TRUSTED_PROXIES: {exc}") from None
        given = {k: v for k, v in overrides.items() if v is not None}
        settings = replace(settings, **given)
        check_prefix(settings.redis_url, settings.prefix)  # a cluster needs a {tag} prefix: say so at start
        return settings


def _env_of(name: str) -> str:
    """The environment variable of setting ``name``."""
    return next(s.env for s in SETTINGS if s.name == name)
