"""OASIS CAP 1.2 in: schema validation (``validate``), EDXL-DE envelopes (``edxl``),
field mapping (``mapping``) and geometry (``geometry``). ``docs/cap-mapping.md``
documents every mapping decision; keep the two in step."""
