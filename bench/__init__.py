"""Benchmarks for Maximus (run each module with ``python -m bench.<name>``)."""
