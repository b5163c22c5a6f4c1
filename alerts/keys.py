"""Every Redis key, channel and stream name, under one prefix. Nobody spells a key twice.

| name                          | kind     | holds                                                     |
|-------------------------------|----------|-----------------------------------------------------------|
| ``{p}:alerts``                | channel  | producers PUBLISH raw alert payloads here (at-most-once)  |
| ``{p}:alerts:inbox``          | stream   | producers XADD ``payload=...`` here (durable, at-least-once) |
| ``{p}:alerts:dead``           | stream   | refused payloads: ``payload``, ``reason``, ``via``, ``at`` |
| ``{p}:alert:{id}``            | string   | one stored alert (JSON of ``StoredAlert``)                |
| ``{p}:events``                | stream   | the ordered record of accepted changes (``alert.created``...) that dashboards follow and replay |
| ``{p}:ingest``                | group    | consumer group of ingest workers on the inbox stream      |
"""
from __future__ import annotations

from dataclasses import dataclass

DEFAULT_PREFIX = "crisis"


@dataclass(frozen=True)
class Keys:
    prefix: str = DEFAULT_PREFIX

    @property
    def alerts_channel(self) -> str:
        return f"{self.prefix}:alerts"

    @property
    def inbox(self) -> str:
        return f"{self.prefix}:alerts:inbox"

    @property
    def dead_letters(self) -> str:
        return f"{self.prefix}:alerts:dead"

    @property
    def events(self) -> str:
        return f"{self.prefix}:events"

    @property
    def ingest_group(self) -> str:
        return f"{self.prefix}:ingest"

    def alert(self, alert_id: str) -> str:
        return f"{self.prefix}:alert:{alert_id}"

    @property
    def alert_pattern(self) -> str:
        return f"{self.prefix}:alert:*"
