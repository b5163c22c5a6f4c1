"""Performance benchmarks of the dashboard: ``python -m bench.run`` (see ``bench/README.md``)."""
