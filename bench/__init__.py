"""Benchmarks: each compares its figures with a floor measured in the same run
(a bare primary-key SELECT, a bare INSERT) on the same database, so numbers
from different machines can be read side by side. Never timed assertions."""
