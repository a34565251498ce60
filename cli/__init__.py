"""The `tuijian` command line (typer, which Prefect already brings)."""
