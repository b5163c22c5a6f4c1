"""Bytes to and from the domain: our JSON, CAP 1.2 (``cap``), Cursor-on-Target (``cot``), GeoJSON,
SITREP renderers, asset files. One decode entry point (``decode``), one refusal (``errors.Rejected``)."""
