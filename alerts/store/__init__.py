"""The Redis adapter: the only package that imports redis. Key names live in ``keys``."""
