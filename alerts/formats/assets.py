"""Response assets from bytes: live messages (JSON or CoT position reports) and import files.

- ``decode_asset_message``: one live payload, a whole ``Asset`` (JSON with a
  ``type``), an ``AssetUpdate`` (JSON without one), or a Cursor-on-Target
  position report (an update of the asset whose id is the event's uid).
- ``parse_import``: a GeoJSON FeatureCollection of Points or a CSV file with
  ``lat``/``lon`` columns, as ``(assets, errors)``. Each asset is dated like
  a live report (``alerts.core.assets.arrival_time``): ``updated_at`` more
  than ``max_skew`` ahead of ``now`` or outside 1900-2200 is an error of that
  item, a time ahead by less is clamped to ``now``.
"""
from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from alerts.core.assets import MAX_CLOCK_SKEW, Asset, AssetUpdate, arrival_time
from alerts.formats.cot.positions import decode_cot_position
from alerts.formats.cot.tak import cot_xml_of, is_tak_protobuf
from alerts.formats.errors import Rejected, validation_reason
from alerts.formats.payload import DEFAULT_MAX_BYTES, json_text, looks_like_xml, payload_bytes
from alerts.formats.xmlsafe import parse_xml


def decode_asset_message(raw: bytes | str, max_bytes: int = DEFAULT_MAX_BYTES) -> Asset | AssetUpdate:
    """One live payload: a whole ``Asset`` (it has a ``type``) or an ``AssetUpdate``; else ``Rejected``.

    XML (a CoT position report; also as TAK protobuf, ``alerts.formats.cot.tak``) is decoded by the parser per its declaration
    and byte-order mark, like alerts; JSON must be UTF-8.
    """
    raw = payload_bytes(raw, max_bytes)
    if is_tak_protobuf(raw):
        return _decode_cot(cot_xml_of(raw))
    if looks_like_xml(raw):
        return _decode_cot(raw)
    text = json_text(raw)
    try:
        document = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise Rejected(f"not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise Rejected(f"not a JSON object: got {type(document).__name__}")
    model, what = (Asset, "asset") if "type" in document else (AssetUpdate, "asset update")
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        raise Rejected(validation_reason(exc, what)) from None
    except (RecursionError, ValueError, TypeError) as exc:
        raise Rejected(f"invalid {what}: {exc}") from None


def _decode_cot(raw: bytes) -> AssetUpdate:
    """A Cursor-on-Target position report (see ``alerts.formats.cot.positions``)."""
    root = parse_xml(raw)
    if root.tag != "event":
        raise Rejected(f"XML asset messages must be CoT <event> position reports, not <{root.tag}>")
    return decode_cot_position(root)


def _import_defaults(props: dict, lat: float, lon: float, now: datetime) -> dict:
    doc = dict(props)
    doc.setdefault("position", {"lat": lat, "lon": lon})
    doc.setdefault("home_base", {"lat": lat, "lon": lon})
    doc.setdefault("updated_at", now.isoformat())
    return doc


def parse_import(data: bytes | str, filename: str = "", now: datetime | None = None,
                 max_skew: timedelta = MAX_CLOCK_SKEW) -> tuple[list[Asset], list[tuple[int, str]]]:
    """Assets from a GeoJSON FeatureCollection of Points or a CSV with ``lat``/``lon`` columns.

    Returns ``(assets, errors)``; each error is ``(item number from 1, reason)``.
    In CSV, ``capabilities`` and ``releasable_to`` are separated by ``;`` or ``|``;
    ``home_lat``/``home_lon`` give the home base (default: the position).
    ``updated_at`` defaults to ``now`` (default: the current time, UTC) and is
    dated by ``arrival_time`` against ``now`` and ``max_skew`` (module docstring).
    """
    now = now or datetime.now(UTC)
    text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
    stripped = text.lstrip()
    if filename.lower().endswith((".json", ".geojson")) or stripped.startswith("{"):
        assets, errors = _parse_geojson(text, now)
    else:
        assets, errors = _parse_csv(text, now)
    dated: list[tuple[int, Asset]] = []
    for number, asset in assets:
        try:
            at = arrival_time(asset.updated_at, now, max_skew)
        except ValueError as exc:
            errors.append((number, f"invalid asset: {exc}"))
            continue
        dated.append((number, asset if at == asset.updated_at else asset.model_copy(update={"updated_at": at})))
    return [asset for _, asset in dated], sorted(errors)


def _validate(document: dict, number: int, assets: list, errors: list) -> None:
    try:
        assets.append((number, Asset.model_validate(document)))
    except ValidationError as exc:
        errors.append((number, validation_reason(exc, "asset")))


def _parse_geojson(text: str, now: datetime) -> tuple[list[tuple[int, Asset]], list[tuple[int, str]]]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        return [], [(0, f"not JSON: {exc}")]
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        return [], [(0, "not a GeoJSON FeatureCollection")]
    assets: list[tuple[int, Asset]] = []
    errors: list[tuple[int, str]] = []
    for number, feature in enumerate(document.get("features") or [], start=1):
        geometry = (feature or {}).get("geometry") or {}
        coords = geometry.get("coordinates")
        if geometry.get("type") != "Point" or not isinstance(coords, list) or len(coords) < 2:
            errors.append((number, "feature geometry is not a Point"))
            continue
        props = feature.get("properties") or {}
        if not isinstance(props, dict):
            errors.append((number, "feature properties are not an object"))
            continue
        _validate(_import_defaults(props, coords[1], coords[0], now), number, assets, errors)
    return assets, errors


def _split(value: str) -> list[str]:
    return [part.strip() for part in re.split(r"[;|]", value) if part.strip()]


def _parse_csv(text: str, now: datetime) -> tuple[list[tuple[int, Asset]], list[tuple[int, str]]]:
    reader = csv.DictReader(io.StringIO(text))
    fields = set(reader.fieldnames or [])
    if not {"lat", "lon"} <= fields:
        return [], [(0, f"CSV needs lat and lon columns (found: {sorted(fields)})")]
    assets: list[tuple[int, Asset]] = []
    errors: list[tuple[int, str]] = []
    for number, row in enumerate(reader, start=1):
        row = {k: (v or "").strip() for k, v in row.items() if k}
        try:
            lat, lon = float(row.pop("lat")), float(row.pop("lon"))
        except ValueError:
            errors.append((number, "lat/lon are not numbers"))
            continue
        doc: dict[str, Any] = {k: v for k, v in row.items() if v and k not in ("home_lat", "home_lon")}
        if row.get("home_lat") and row.get("home_lon"):
            try:
                doc["home_base"] = {"lat": float(row["home_lat"]), "lon": float(row["home_lon"])}
            except ValueError:
                errors.append((number, "home_lat/home_lon are not numbers"))
                continue
        for key in ("capabilities", "releasable_to"):
            if key in doc:
                doc[key] = _split(doc[key])
        _validate(_import_defaults(doc, lat, lon, now), number, assets, errors)
    return assets, errors
