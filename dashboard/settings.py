"""Settings, read once at start-up from the command line and the environment.

| setting                   | CLI flag        | environment              | default                   |
|---------------------------|-----------------|--------------------------|---------------------------|
| host                      | ``--host``      | ``CRISIS_HOST``          | 127.0.0.1                 |
| port                      | ``--port``      | ``CRISIS_PORT``          | 8050                      |
| redis_url                 | ``--redis-url`` | ``REDIS_URL``            | none: embedded Valkey     |
| data_dir                  | ``--data-dir``  | ``CRISIS_DATA_DIR``      | ./data                    |
| prefix                    | ``--prefix``    | ``CRISIS_PREFIX``        | crisis                    |
| classification            |                 | ``CRISIS_CLASSIFICATION``| UNCLASSIFIED              |
| max_payload_bytes         |                 | ``CRISIS_MAX_PAYLOAD``   | 1048576                   |
| missing_releasability     |                 | ``CRISIS_MISSING_RELEASABILITY`` | source (or ``all``) |
| escalation_minutes        |                 | ``CRISIS_ESCALATION_MINUTES`` | critical=2,high=5,medium=15,low=60 |
| escalation_tick_seconds   |                 | ``CRISIS_ESCALATION_TICK`` | 5                       |
| checklists_dir            |                 |                          | ./checklists of the project |
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8050
    redis_url: str | None = None
    data_dir: Path = Path("data")
    prefix: str = "crisis"
    demo: bool = False
    run_ingest: bool = True
    classification: str = "UNCLASSIFIED"
    max_payload_bytes: int = 1_048_576
    #: "source": an alert without releasable_to is seen by its reporting nation only.
    #: "all": it is seen by every nation.
    missing_releasability: str = "source"
    assets_dir: Path = field(default=PROJECT_ROOT / "assets")
    checklists_dir: Path = field(default=PROJECT_ROOT / "checklists")
    #: Acknowledgment deadlines by severity, in minutes (see ``alerts.escalation``).
    escalation_minutes: str = "critical=2,high=5,medium=15,low=60"
    escalation_tick_seconds: float = 5.0

    @property
    def escalation_policy(self):
        from alerts.escalation import EscalationPolicy

        return EscalationPolicy.parse(self.escalation_minutes)

    @property
    def default_to_source(self) -> bool:
        return self.missing_releasability != "all"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides) -> "Settings":
        env = os.environ if environ is None else environ
        settings = cls(
            host=env.get("CRISIS_HOST", cls.host),
            port=int(env.get("CRISIS_PORT", cls.port)),
            redis_url=env.get("REDIS_URL") or None,
            data_dir=Path(env.get("CRISIS_DATA_DIR", "data")),
            prefix=env.get("CRISIS_PREFIX", cls.prefix),
            classification=env.get("CRISIS_CLASSIFICATION", cls.classification),
            max_payload_bytes=int(env.get("CRISIS_MAX_PAYLOAD", cls.max_payload_bytes)),
            missing_releasability=env.get("CRISIS_MISSING_RELEASABILITY", "source"),
            escalation_minutes=env.get("CRISIS_ESCALATION_MINUTES", cls.escalation_minutes),
            escalation_tick_seconds=float(env.get("CRISIS_ESCALATION_TICK", cls.escalation_tick_seconds)),
        )
        if settings.missing_releasability not in ("source", "all"):
            raise ValueError("CRISIS_MISSING_RELEASABILITY must be 'source' or 'all'")
        settings.escalation_policy  # noqa: B018  (fail fast on a bad CRISIS_ESCALATION_MINUTES)
        given = {k: v for k, v in overrides.items() if v is not None}
        return replace(settings, **given)
