"""`tuijian mailsink`: an SMTP sink on 127.0.0.1 that keeps every message as a .eml file."""

import signal
import threading
from pathlib import Path

import typer

from cli.common import console, friendly

app = typer.Typer(help="演示用邮件接收器 / SMTP sink for the demo", invoke_without_command=True)


@app.callback()
@friendly
def mailsink(
    port: int = typer.Option(None, help="port (default: TUIJIAN_SMTP_PORT, 8025)"),
    folder: Path = typer.Option(None, help="where .eml files go (default: out/mail)"),
) -> None:
    """Accept mail on 127.0.0.1 and write each message to a folder until stopped (Ctrl-C)."""
    from core.mailsink import start_mailsink

    stopped = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopped.set())
    sink = start_mailsink(folder, port)
    console.print(f"[green]✓[/] 邮件接收器已启动 / mail sink listening on {sink.host}:{sink.port} → {sink.folder}")
    try:
        stopped.wait()
    finally:
        sink.stop()
    received = len(sink.records())
    console.print(f"已停止，共收到 {received} 封 / stopped, {received} messages kept in {sink.folder}")
