"""Settings, read once at start-up from the command line and the environment.

``SETTINGS`` is the one table of every setting: its field, command-line flag,
environment variable, default and meaning. ``Settings.from_env`` reads it, the
README's settings table is checked against it (``tests/test_docs.py``), and
nothing else in the app reads the environment.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from alerts.core.escalation import EscalationPolicy
from alerts.core.markings import Classifications

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
            "live streams of each kind (`/live/alerts`, `/live/assets`) one user may hold in a server process; "
            "one more closes that user's oldest"),
    Setting("max_streams", "", "CRISIS_MAX_STREAMS", "200",
            "live streams a server process holds in all; beyond it a new one is answered 503"),
    Setting("redis_url", "--redis-url", "REDIS_URL", "(none: the embedded Valkey)",
            "Redis or Valkey to use (`redis://`, `rediss://`, `unix://`)"),
    Setting("data_dir", "--data-dir", "CRISIS_DATA_DIR", "./data", "where the embedded Valkey keeps its data"),
    Setting("prefix", "--prefix", "CRISIS_PREFIX", "crisis", "prefix of every Redis key, channel and stream"),
    Setting("classifications", "", "CRISIS_CLASSIFICATIONS", "UNCLASSIFIED,RESTRICTED,CONFIDENTIAL,SECRET",
            "classification levels, lowest first (markings, clearances; the lowest is the default)"),
    Setting("feeds_file", "", "CRISIS_FEEDS", "(none)",
            "feed registry (TOML, see `docs/feeds.example.toml`); without one, only messages that state "
            "their own releasability are routed"),
    Setting("max_payload_bytes", "", "CRISIS_MAX_PAYLOAD", "1048576", "largest payload ingest accepts (bytes)"),
    Setting("escalation_minutes", "", "CRISIS_ESCALATION_MINUTES", "critical=2,high=5,medium=15,low=60",
            "acknowledgment deadlines by severity, in minutes"),
    Setting("escalation_tick_seconds", "", "CRISIS_ESCALATION_TICK", "5",
            "how often each server process checks for escalations (seconds)"),
    Setting("max_clock_skew_seconds", "", "CRISIS_MAX_CLOCK_SKEW", "120",
            "an asset report dated further ahead of the centre's clock than this (seconds) is refused; "
            "one ahead by less is dated now"),
    Setting("consumer", "", "CRISIS_CONSUMER", "ingest-<hostname>",
            "consumer name of this host's ingest workers in the consumer groups (keep it stable across restarts)"),
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
    redis_url: str | None = None
    data_dir: Path = Path("data")
    prefix: str = "crisis"
    demo: bool = False
    run_ingest: bool = True
    classifications: str = "UNCLASSIFIED,RESTRICTED,CONFIDENTIAL,SECRET"
    feeds_file: Path | None = None
    max_payload_bytes: int = 1_048_576
    escalation_minutes: str = "critical=2,high=5,medium=15,low=60"
    escalation_tick_seconds: float = 5.0
    max_clock_skew_seconds: float = 120.0
    consumer: str | None = None
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
        settings = cls(**values)
        try:
            settings.scheme  # noqa: B018  (fail fast on a bad CRISIS_CLASSIFICATIONS)
        except ValueError as exc:
            raise ValueError(f"CRISIS_CLASSIFICATIONS: {exc}") from None
        try:
            settings.escalation_policy  # noqa: B018  (fail fast on a bad CRISIS_ESCALATION_MINUTES)
        except ValueError as exc:
            raise ValueError(f"CRISIS_ESCALATION_MINUTES: {exc}") from None
        given = {k: v for k, v in overrides.items() if v is not None}
        return replace(settings, **given)
