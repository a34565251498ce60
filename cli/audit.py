"""`tuijian audit verify`: walk the audit log's hash chain and name the first bad row."""

import typer

from cli.common import console, err_console, friendly, ready_db

app = typer.Typer(help="审计日志 / audit log", no_args_is_help=True)


@app.command("verify")
@friendly
def verify(campaign: str | None = typer.Option(
        None, "--campaign", help="活动编号：另报该活动的记录数（链条总是整条核对）/ campaign slug: also count its rows "
                                 "(the chain links every campaign's rows, so it is always checked whole)")) -> None:
    """Check that no audit row was changed, removed or forged; exit 1 naming the first bad row."""
    from sqlmodel import func, select

    from core.db import session_scope
    from models import AuditLog
    from tasks.audit import verify_chain
    from tasks.campaigns import get_campaign

    ready_db()
    with session_scope() as session:
        count = select(func.count()).select_from(AuditLog)
        if campaign is not None:
            count = count.where(AuditLog.campaign_id == get_campaign(session, campaign).id)
        rows = session.exec(count).one()
        problems = verify_chain(session)
    if problems:
        err_console.print(f"✗ 审计日志已被改动，第一处问题：{problems[0]}\n"
                          f"  the audit log was tampered with; first problem: {problems[0]}",
                          markup=False, highlight=False, soft_wrap=True, style="bold red")
        for problem in problems[1:]:
            err_console.print(f"  • {problem}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1)
    scope = f"活动 {campaign} 的 {rows} 条 / {rows} rows of {campaign}" if campaign else f"{rows} 条 / rows"
    console.print(f"[green]✓[/] 审计日志完好 / audit log intact: {scope}", highlight=False)
