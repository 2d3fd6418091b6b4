"""Benchmarks (issue 8): run `python tests/perf/bench.py`; not part of the test suite."""
