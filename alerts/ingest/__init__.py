"""Ingest: raw payloads in (stream or channel), records and dead letters out.

``pipeline`` is the contract every pipeline keeps; ``alerts`` and ``assets``
are the two pipelines; ``workers`` read the inbox stream and the channel and
drive a pipeline.
"""
