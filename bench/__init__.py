"""Benchmark and fault proof of the real service: `python -m bench run [--quick]`.

See docs/performance.md for what it measures and the last full run's figures.
"""
