"""Benchmarks: each compares its figures with a floor measured in the same run
(a bare primary-key SELECT, a bare INSERT, a bare Flask app doing one Redis GET
and SET) on the same services, so numbers from different machines can be read
side by side. Figures go to BENCHMARKS.md. Never timed assertions."""
