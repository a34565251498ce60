"""Helpers shared by the command modules: the console, error display, database start-up."""

from collections.abc import Callable
from functools import wraps

import typer
from rich.console import Console

from core.errors import TuijianError, ValidationFailed

console = Console()
err_console = Console(stderr=True)


def friendly(fn: Callable) -> Callable:
    """Show TuijianErrors as field-level messages and exit non-zero instead of a traceback."""

    @wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except ValidationFailed as exc:
            err_console.print(f"[bold red]✗ {exc.zh} / {exc.en}[/]")
            for e in exc.errors:
                err_console.print(f"  • {e}", markup=False, highlight=False)
            raise typer.Exit(1) from None
        except TuijianError as exc:
            err_console.print(f"[bold red]✗[/] {exc.zh} / {exc.en}", highlight=False)
            raise typer.Exit(1) from None

    return wrapper


def ready_db() -> None:
    """Make sure the database exists and is migrated to head."""
    from core.db import init_db

    init_db()
