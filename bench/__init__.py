"""Benchmarks: each module measures against a floor taken in the same run (figures in BENCHMARKS.md)."""
