"""Alert records packed in memory (``alerts.core.packing``): exact round trips for any bytes, a typical record
several times smaller, and a dictionary that follows the stored alert's schema."""
from __future__ import annotations

import json
import os
import zlib

import pytest

from alerts.core.model import StoredAlert
from alerts.core.packing import DICTIONARY, pack, unpack

ODD_RECORDS = [
    b"",
    b"{}",
    "{\"title\":\"Земјотрес кај Скопје · Tërmet në Shkup · 🚨 \u202eevil\u202c\"}".encode("utf-8"),
    b"\x00\xff" * 3000,  # not JSON, not text
    os.urandom(70_000),  # incompressible, over the 4 KiB window
    json.dumps({"area": {"polygons": [[[20 + i / 1e4, 41 + i / 1e4] for i in range(60_000)]]}}).encode(),
]


@pytest.mark.parametrize("record", ODD_RECORDS, ids=["empty", "object", "scripts", "binary", "random", "area"])
def test_pck001_any_record_comes_back_exactly(record):
    assert unpack(pack(record)) == record


def test_pck002_a_typical_record_packs_to_a_fraction_of_its_json():
    record = DICTIONARY.replace(b"MK-0001", b"RS-2026-0412").replace(b"Alert", b"Flooding on the Sava at Sabac")
    assert len(pack(record)) * 4 < len(record)


def test_pck003_bytes_pack_did_not_make_are_refused():
    packed = pack(DICTIONARY)
    with pytest.raises(zlib.error):
        unpack(packed[: len(packed) // 2])  # cut short
    with pytest.raises(zlib.error):
        unpack(b"\xff" * 40)


def test_pck004_the_dictionary_is_a_stored_alert_with_every_field_the_model_writes():
    stored = StoredAlert.model_validate_json(DICTIONARY)
    assert stored.model_dump_json().encode("utf-8") == DICTIONARY
    written = json.loads(DICTIONARY)
    assert set(written) == set(StoredAlert.model_fields) - {f for f, i in StoredAlert.model_fields.items() if i.exclude}
