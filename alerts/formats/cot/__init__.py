"""Cursor-on-Target: events in (``decode``: emergencies; ``positions``: PLI of response assets) and out (``encode``)."""
