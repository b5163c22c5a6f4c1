"""Pieces of page shared by the pages: component ids (``ids``), alert and asset panels."""
