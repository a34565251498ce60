"""Benchmarks: `bench/national.py` (the whole chain at national size, `make bench`) and `bench/dashboard.py`."""
