"""`tuijian dashboard`: serve the read-only web dashboard (uvicorn, 127.0.0.1 by default)."""

import typer

from cli.common import console, friendly, ready_db


@friendly
def serve(
    host: str | None = typer.Option(None, help="地址 / bind address (default settings.dashboard_host)"),
    port: int | None = typer.Option(None, help="端口 / port (default settings.dashboard_port)"),
) -> None:
    """网页看板 / Serve the read-only dashboard: tree, deadlines, quotas, late units, approvals."""
    import uvicorn

    from core.settings import get_settings
    from tasks.dashboard_app import create_app

    ready_db()
    settings = get_settings()
    host, port = host or settings.dashboard_host, port or settings.dashboard_port
    console.print(f"看板 / dashboard: [bold]http://{host}:{port}/[/]  (Ctrl+C 停止 / to stop)")
    uvicorn.run(create_app(), host=host, port=port, log_level="warning")
