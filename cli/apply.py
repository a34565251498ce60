"""`tuijian apply FILE...` files applications; `tuijian template intake` writes the intake sheet."""

from pathlib import Path

import typer
from rich.table import Table

from cli.common import console, err_console, friendly, ready_db

template_app = typer.Typer(help="模板 / blank templates", no_args_is_help=True)


@friendly
def apply(
    files: list[Path] = typer.Argument(..., help="intake files (.json, .yaml, .xlsx) or folders of them"),
    campaign: str | None = typer.Option(None, "--campaign", "-c", help="campaign slug (if the files name none)"),
    actor: str | None = typer.Option(None, "--actor", "--by",
                                     help="who files them, for the audit log (default: the OS user name)"),
) -> None:
    """File applications from intake files; each file is all-or-nothing."""
    from tasks.intake import intake_file
    from tasks.intake_read import intake_paths

    ready_db()
    console.print("每个文件单独受理：文件中任何一处有误，该文件的申报一件也不受理 / "
                  "each file is all-or-nothing: one problem and nothing from that file is filed")
    who = ((actor or "").strip() or os_user())[:100]  # AuditLog.actor holds 100 characters
    results = [intake_file(path, campaign_slug=campaign, actor=who) for path in intake_paths(files)]
    for result in results:
        show_result(result)
    refused = [r for r in results if not r.ok]
    filed = sum(len(r.filed) for r in results)
    console.print(f"合计 / total: 受理 {filed} 件 / filed {filed}; "
                  f"{len(results) - len(refused)} 个文件通过 / files accepted, {len(refused)} 个文件退回 / refused")
    if refused:
        raise typer.Exit(1)


def os_user() -> str:
    """The operating-system user name, or "intake" where the system has none (a bare container)."""
    import getpass

    try:
        return getpass.getuser() or "intake"
    except (KeyError, OSError):
        return "intake"


def show_result(result) -> None:
    """Print what one file filed, or every problem that stopped it."""
    if not result.ok:
        err_console.print(f"[bold red]✗ {result.path}[/]：未受理，{len(result.errors)} 处问题，本文件未做任何更改 / "
                          f"refused, {len(result.errors)} problems, nothing from this file was filed",
                          highlight=False, soft_wrap=True)
        for error in result.errors:
            err_console.print(f"  • {error}", markup=False, highlight=False, soft_wrap=True)
        return
    table = Table(title=f"✓ {result.path}：受理 {len(result.filed)} 件 / filed {len(result.filed)}")
    table.add_column("申报编号 / reference", no_wrap=True, min_width=max(len(a.reference) for a in result.filed))
    for header in ("申报单位 / enterprise", "项目 / project", "受理单位 / unit", "方向 / direction"):
        table.add_column(header, overflow="fold")
    for app in result.filed:
        table.add_row(app.reference, app.enterprise, app.project, f"{app.unit_code} {app.unit_name}",
                      app.direction_name)
    console.print(table)


@template_app.command("intake")
@friendly
def template_intake(
    campaign: str | None = typer.Option(None, "--campaign", "-c", help="campaign slug (default: the only one loaded)"),
    output: Path | None = typer.Option(None, "-o", "--output", help="where to write the .xlsx"),
) -> None:
    """Write the blank xlsx intake sheet (申报信息表) for a campaign."""
    from core.db import session_scope
    from core.settings import get_settings
    from tasks.campaigns import campaign_config
    from tasks.intake import choose_campaign
    from tasks.intake_sheet import write_intake_sheet

    ready_db()
    with session_scope() as session:
        config = campaign_config(choose_campaign(session, campaign))
    path = output or get_settings().output_dir / f"申报信息表-{config.slug}.xlsx"
    write_intake_sheet(config, path)
    console.print(f"[green]✓[/] 申报信息表 / intake sheet: {path}")
