"""Benchmarks: run ``python -m benchmarks`` (everything) or one module, e.g.
``python -m benchmarks.overhead``."""
