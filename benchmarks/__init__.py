"""Benchmarks of caci_spider: ``python -m benchmarks.run`` (see docs/benchmarks.md)."""
