"""The backend of the crisis dashboard: the domain (``core``), wire formats (``formats``), the Redis
adapter (``store``), ingest workers (``ingest``) and the use cases every front end calls (``actions``)."""
