"""Tasks of tuijian: pure domain rules as plain functions, with thin @task wrappers for I/O."""
