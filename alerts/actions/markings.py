"""The marking of what a viewer is shown: one ``Marking`` covering every alert on a page or in an export.

Most restrictive wins (``alerts.core.markings.most_restrictive``): the
highest classification and TLP, every caveat, and only the nations every
item is released to. Content without alerts carries the lowest level.
"""
from __future__ import annotations

from collections.abc import Iterable

from alerts.actions.centre import Centre
from alerts.core.markings import Marking, most_restrictive
from alerts.core.model import StoredAlert


def marking_of(centre: Centre, alerts: Iterable[StoredAlert]) -> Marking:
    """The marking covering ``alerts`` under the deployment's classification levels."""
    return most_restrictive((stored.routing.marking(centre.scheme) for stored in alerts), centre.scheme)
