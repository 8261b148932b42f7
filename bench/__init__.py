"""Benchmarks run by hand (`python -m bench`), never in CI's test pass."""
