"""`tuijian scores ...`: write experts' score sheets, import them back, show what is missing."""

from pathlib import Path

import typer
from rich.table import Table

from cli.common import console, err_console, friendly, ready_db

app = typer.Typer(help="专家评分 / expert scoring", no_args_is_help=True)
CAMPAIGN = typer.Option(None, "--campaign", "-c", help="活动 / campaign slug (optional when only one)")


def _stage_id(session, unit: str, campaign: str | None) -> int:
    """The id of a unit's stage in the named (or the only) campaign."""
    from tasks.stages import load_stage
    from tasks.status import pick_campaign

    return load_stage(session, pick_campaign(session, campaign), unit).stage.id


@app.command("sheets")
@friendly
def sheets(unit: str = typer.Argument(..., help="单位代码 / unit code"), campaign: str | None = CAMPAIGN,
           out: Path | None = typer.Option(None, "--out", "-o", help="输出目录 / output folder")) -> None:
    """Write one xlsx score sheet per expert of the unit."""
    from core.db import session_scope
    from core.settings import get_settings
    from tasks.score_sheets import write_score_sheets
    from tasks.stages import load_stage_by_id

    ready_db()
    with session_scope() as session:
        ctx = load_stage_by_id(session, _stage_id(session, unit, campaign))
        folder = out or get_settings().output_dir / ctx.campaign.slug / unit / "评分表"
        paths = write_score_sheets(session, ctx.stage.id, folder)
    if not paths:
        console.print(f"{ctx.unit.name}没有评审专家，无需评分表 / no experts score at {unit}")
    for path in paths:
        console.print(f"[green]✓[/] {path}")


@app.command("import")
@friendly
def import_(files: list[Path] = typer.Argument(..., help="评分表 / score sheets (.xlsx)")) -> None:
    """Import filled-in score sheets; any error refuses that file and exits 1."""
    from tasks.score_sheets import import_score_sheet

    ready_db()
    failed = False
    for path in files:
        result = import_score_sheet(path)
        if result.errors:
            failed = True
            err_console.print(f"[bold red]✗ {path.name}[/]：未导入 / not imported ({len(result.errors)})")
            for e in result.errors:
                err_console.print(f"  • {e}", markup=False, highlight=False)
            continue
        console.print(f"[green]✓[/] {path.name}: 评分 {result.scored} 项 / scored, 回避 {result.conflicts} / "
                      f"conflicts, 空白 {result.blank} / blank; 本环节待评 {result.missing} / still missing")
        if result.resumed:
            console.print("  评分已齐，流程已继续 / all scores in: the stage flow was resumed")
        elif result.resume_problem:
            err_console.print(f"  [yellow]![/] {result.resume_problem}", highlight=False)
    if failed:
        raise typer.Exit(1)


@app.command("status")
@friendly
def status(unit: str = typer.Argument(..., help="单位代码 / unit code"), campaign: str | None = CAMPAIGN) -> None:
    """Show which expert still owes scores for which entry."""
    from core.db import session_scope
    from models import Application, Entry
    from tasks.score_stage import expert_assignment, missing_scores

    ready_db()
    with session_scope() as session:
        stage_id = _stage_id(session, unit, campaign)
        missing = missing_scores(session, stage_id)
        entries = len(expert_assignment(session, stage_id))
        refs = {e: session.get(Application, session.get(Entry, e).application_id).reference
                for e, _ in missing}
    table = Table("申报编号 / reference", "待评专家 / expert", title=f"{unit} 待评分 / missing scores")
    for entry_id, expert in missing:
        table.add_row(refs[entry_id], expert)
    if missing:
        console.print(table)
    console.print(f"{entries} 个项目，待评 {len(missing)} 份 / {entries} entries, {len(missing)} score sets missing")
