"""The dashboard app: ``create_app`` wires Redis, the read model, the API and the pages."""
