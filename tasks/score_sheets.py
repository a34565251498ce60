"""Per-expert xlsx score sheets (评分表): write them for a stage, and read them back.

Each sheet lists the entries one expert may score (conflicts left out), one column per
criterion; only the score, conflict and note cells are unlocked, the sheet is protected
and the cells carry data validation (decimal 0..max, 是/否). The import side lives in
`tasks.score_sheet_import` and is re-exported here.
"""

import json
import re
from collections import Counter
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet
from sqlmodel import Session

from core.campaign import Expert
from core.clock import fmt
from models import Application, Entry
from tasks.score_input import plain
from tasks.score_sheet_import import ImportResult, import_score_sheet
from tasks.score_sheet_layout import (
    FIRST_ROW,
    FORMAT,
    HEAD_ROW,
    INFO_HEADS,
    KEY_ROW,
    META,
    NO,
    NOTE_ROW,
    SHEET,
    TITLE_ROW,
    YES,
    column_keys,
)
from tasks.score_stage import (
    assignment_of,
    expert_scores,
    scorable_entries,
    stage_context,
    unit_experts,
)
from tasks.stages import StageContext
from tasks.summary_table import put_text

__all__ = ["ImportResult", "import_score_sheet", "write_score_sheets"]

UNLOCKED = Protection(locked=False)
HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")
INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")
INSTRUCTIONS = (
    "说明：请在黄色单元格内按评分细则打分（0至满分，最多4位小数）；与申报单位存在利益关联的，"
    "在“是否回避”栏填“是”并不打分。其余单元格已锁定，请勿改动表格结构。填好后交回，由工作人员"
    "执行 tuijian scores import 导入。\n"
    "Score each project in the yellow cells (0 to the maximum, at most 4 decimals); where you "
    "have a conflict of interest, put 是 (yes) under 是否回避 and give no score. Other cells are "
    "locked; do not change the layout. Return the file to be imported with `tuijian scores import`."
)


def write_score_sheets(session: Session, stage_id: int, folder: Path) -> list[Path]:
    """Write one score sheet per expert of the stage's unit into `folder`; return their paths."""
    ctx = stage_context(session, stage_id)
    assignment = assignment_of(session, ctx)
    pairs = scorable_entries(session, ctx.stage)
    recorded = expert_scores(session, [e.id for e, _ in pairs])
    names = Counter(e.name for e in unit_experts(ctx).values())
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for expert in unit_experts(ctx).values():
        mine = [(e, a) for e, a in pairs if expert.id in assignment[e.id]]
        scores = {e.id: recorded.get((e.id, expert.id), {}) for e, _ in mine}
        path = folder / sheet_file_name(ctx.unit.name, expert, names[expert.name] > 1)
        build_workbook(ctx, expert, mine, scores).save(path)
        paths.append(path)
    return paths


def sheet_file_name(unit_name: str, expert: Expert, add_id: bool = False) -> str:
    """`评分表-<unit name>-<expert name>.xlsx`, safe for any file system."""
    name = f"{expert.name}-{expert.id}" if add_id else expert.name
    return re.sub(r'[\\/:*?"<>|\s]+', "_", f"评分表-{unit_name}-{name}") + ".xlsx"


def build_workbook(ctx: StageContext, expert: Expert, pairs: list[tuple[Entry, Application]],
                   scores: dict[int, dict[str, Decimal]]) -> Workbook:
    """Lay out one expert's protected score sheet and its hidden header."""
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    keys = column_keys(ctx.config.rubric)
    write_heading(ws, ctx, expert, keys)
    for offset, (entry, app) in enumerate(pairs):
        write_entry(ws, FIRST_ROW + offset, ctx, entry, app, scores.get(entry.id, {}))
    add_validations(ws, ctx, len(pairs))
    ws.protection.sheet = True
    ws.freeze_panes = ws.cell(FIRST_ROW, 2)
    write_meta(wb, ctx, expert, keys, len(pairs))
    wb.security = WorkbookProtection(lockStructure=True)
    return wb


def write_heading(ws: Worksheet, ctx: StageContext, expert: Expert, keys: list[str]) -> None:
    """Write the title, instructions, hidden key row and column headings."""
    last = get_column_letter(len(keys))
    ws.cell(TITLE_ROW, 1, f"{ctx.config.name}专家评分表 — {ctx.unit.name} — {expert.name}"
                          f"（{expert.id}）").font = Font(bold=True, size=14)
    ws.merge_cells(f"A{TITLE_ROW}:{last}{TITLE_ROW}")
    ws.cell(NOTE_ROW, 1, INSTRUCTIONS).alignment = Alignment(wrap_text=True, vertical="top")
    ws.merge_cells(f"A{NOTE_ROW}:{last}{NOTE_ROW}")
    ws.row_dimensions[NOTE_ROW].height = 75
    criteria = [f"{c.name}（满分{plain(c.max_score)}）\n{c.key}" for c in ctx.config.rubric.criteria]
    heads = [*INFO_HEADS, *criteria, "是否回避（是/否）\nConflict", "备注\nNote"]
    for col, (key, head) in enumerate(zip(keys, heads, strict=True), start=1):
        ws.cell(KEY_ROW, col, key)
        cell = ws.cell(HEAD_ROW, col, head)
        cell.font, cell.fill = Font(bold=True), HEAD_FILL
        cell.alignment = Alignment(wrap_text=True, horizontal="center", vertical="center")
        ws.column_dimensions[get_column_letter(col)].width = 34 if key in ("enterprise", "project") else 16
    ws.row_dimensions[KEY_ROW].hidden = True
    ws.row_dimensions[HEAD_ROW].height = 36


def write_entry(ws: Worksheet, row: int, ctx: StageContext, entry: Entry, app: Application,
                scores: dict[str, Decimal]) -> None:
    """Write one entry's row: locked description, unlocked score, conflict and note cells."""
    direction = ctx.config.directions.get(entry.direction)
    info = [app.reference, app.enterprise_name, app.project_name,
            direction.name if direction else entry.direction]
    for col, value in enumerate(info, start=1):
        cell = ws.cell(row, col)
        put_text(cell, value)  # applicant text: "=..." stays text, never a formula
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    editable = [*(scores.get(c.key) for c in ctx.config.rubric.criteria), NO, None]
    for col, value in enumerate(editable, start=len(info) + 1):
        cell = ws.cell(row, col, float(value) if isinstance(value, Decimal) else value)
        cell.protection, cell.fill = UNLOCKED, INPUT_FILL


def add_validations(ws: Worksheet, ctx: StageContext, count: int) -> None:
    """Limit each score column to 0..max and the conflict column to 是/否."""
    if count == 0:
        return
    last = FIRST_ROW + count - 1
    col = len(INFO_HEADS)
    for col, c in enumerate(ctx.config.rubric.criteria, start=len(INFO_HEADS) + 1):
        letter = get_column_letter(col)
        dv = DataValidation(type="decimal", operator="between", formula1="0",
                            formula2=plain(c.max_score), allow_blank=True, showErrorMessage=True,
                            errorTitle="分值无效 / invalid score",
                            error=f"请输入0至{plain(c.max_score)}之间的数 / enter 0 to {plain(c.max_score)}")
        dv.add(f"{letter}{FIRST_ROW}:{letter}{last}")
        ws.add_data_validation(dv)
    letter = get_column_letter(col + 1)
    dv = DataValidation(type="list", formula1=f'"{YES},{NO}"', allow_blank=True, showErrorMessage=True,
                        errorTitle="请选择 / choose", error="请填“是”或“否” / enter 是 or 否")
    dv.add(f"{letter}{FIRST_ROW}:{letter}{last}")
    ws.add_data_validation(dv)


def write_meta(wb: Workbook, ctx: StageContext, expert: Expert, keys: list[str], rows: int) -> None:
    """Add the very hidden, protected header sheet that lets the import find everything."""
    meta = wb.create_sheet(META)
    values = {"format": FORMAT, "campaign": ctx.campaign.slug, "unit": ctx.unit.code,
              "stage_id": ctx.stage.id, "expert": expert.id,
              "criteria": json.dumps([c.key for c in ctx.config.rubric.criteria]),
              "columns": json.dumps(keys), "rows": rows, "generated_at": fmt(ctx.now)}
    for row, (key, value) in enumerate(values.items(), start=1):
        meta.cell(row, 1, key)
        meta.cell(row, 2, value)
    meta.sheet_state = "veryHidden"
    meta.protection.sheet = True
