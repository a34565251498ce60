"""Read an expert's score sheet back (`tuijian scores import FILE`), all or nothing.

The file must be one of ours (its hidden header names a stage of a known campaign, the
unit, an expert of that unit and the current criteria), the stage must be in state
"scoring", the file bounded in size, and every value a plain number in range (a formula
is refused, even one that shows a number). When the stage has every score afterwards,
the stage's waiting flow run is resumed with `sheets_imported = true`.
"""

import json
import math
import re
import zipfile
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException
from sqlmodel import Session

from core.db import session_scope
from core.errors import FieldError, TuijianError
from models import Campaign, Stage
from tasks.score_input import SHEETS_IMPORTED, resume_stage_run
from tasks.score_record import ScoreRow, record_scores
from tasks.score_sheet_layout import (
    FIRST_ROW,
    FORMAT,
    KEY_ROW,
    MAX_BYTES,
    MAX_ROWS,
    META,
    NO,
    SHEET,
    YES,
    column_keys,
    column_label,
)
from tasks.score_stage import missing_scores, stage_context, unit_experts
from tasks.stages import StageContext

UNREADABLE = (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError)
NUMBER = re.compile(r"^\d+(\.\d+)?$")
TRUE_WORDS, FALSE_WORDS = {YES, "Y", "YES", "TRUE", "1"}, {NO, "N", "NO", "FALSE", "0", ""}


@dataclass
class ImportResult:
    """What importing one sheet did; `errors` empty means it was recorded."""

    path: Path
    errors: list[FieldError] = field(default_factory=list)
    stage_id: int | None = None
    expert: str | None = None
    scored: int = 0
    conflicts: int = 0
    blank: int = 0
    missing: int | None = None
    resumed: bool = False
    resume_problem: str | None = None


def fail(path: Path, zh: str, en: str, where: str = "(file)", row: int | None = None) -> FieldError:
    """A problem located in a sheet."""
    return FieldError(where, zh, en, file=path.name, row=row)


def import_score_sheet(path: Path) -> ImportResult:
    """Check and record one score sheet; resume the stage's flow run once every score is in."""
    path = Path(path)
    result = ImportResult(path)
    problem = file_problem(path)
    if problem is not None:
        result.errors = [problem]
        return result
    flow_run_id = None
    with session_scope() as session:
        result.errors = load_and_record(session, path, result)
        if not result.errors:
            result.missing = len(missing_scores(session, result.stage_id))
            flow_run_id = session.get(Stage, result.stage_id).flow_run_id
    if flow_run_id:
        _show_progress(result.stage_id, flow_run_id)
    if result.missing == 0 and flow_run_id:
        try:
            resume_stage_run(flow_run_id, SHEETS_IMPORTED)
            result.resumed = True
        except TuijianError as exc:
            result.resume_problem = f"{exc.zh} / {exc.en}"
    return result


def _show_progress(stage_id: int, flow_run_id: str) -> None:
    """Update the waiting stage run's scoring progress in the Prefect UI (a view: never fails)."""
    from prefect.logging import get_logger

    from tasks.artifacts import update_run_scoring_progress

    try:
        update_run_scoring_progress(stage_id, flow_run_id)
    except Exception as exc:  # the scores are recorded; the artifact is only a picture of them
        get_logger(__name__).warning("评分进度未更新 / scoring progress not updated: %s", exc)


def file_problem(path: Path) -> FieldError | None:
    """Refuse a missing, non-xlsx or oversized file before opening it."""
    if not path.is_file():
        return fail(path, "文件不存在", "no such file")
    if path.suffix.lower() != ".xlsx":
        return fail(path, "只接受 .xlsx 评分表", "only .xlsx score sheets are accepted")
    if path.stat().st_size > MAX_BYTES:
        return fail(path, f"文件超过 {MAX_BYTES // 1048576} MB", f"file is over {MAX_BYTES // 1048576} MB")
    return None


def load_and_record(session: Session, path: Path, result: ImportResult) -> list[FieldError]:
    """Open the workbook, check its header and rows, and record them."""
    wb = None
    try:
        wb = load_workbook(path, read_only=True, data_only=False)
        meta, errors = read_meta(session, wb, path)
        if errors:
            return errors
        ctx = stage_context(session, int(meta["stage_id"]))
        result.stage_id, result.expert = ctx.stage.id, meta["expert"]
        rows, errors = read_rows(wb[SHEET], ctx, meta["expert"], path)
    except UNREADABLE as exc:
        return [fail(path, f"无法读取该文件：{exc}", f"cannot read the file: {exc}")]
    finally:
        if wb is not None:
            wb.close()
    errors = errors or record_scores(session, ctx.stage.id, rows, source="sheet",
                                     actor=f"expert:{meta['expert']}")
    if not errors:
        result.scored = sum(1 for r in rows if not r.blank and not r.conflict)
        result.conflicts = sum(1 for r in rows if r.conflict)
        result.blank = sum(1 for r in rows if r.blank)
    return [replace(e, field=column_label(ctx.config.rubric, e.field)) for e in errors]


def read_meta(session: Session, wb, path: Path) -> tuple[dict, list[FieldError]]:
    """Read and check the hidden header against the database."""
    if META not in wb.sheetnames or SHEET not in wb.sheetnames:
        return {}, [fail(path, "不是本系统生成的评分表", "not a score sheet made by tuijian")]
    meta = {str(k): v for k, v, *_ in wb[META].iter_rows(max_row=20, max_col=2, values_only=True) if k}
    if meta.get("format") != FORMAT or not str(meta.get("stage_id", "")).isdigit():
        return meta, [fail(path, "评分表表头无效", "the score sheet's header is not valid")]
    stage = session.get(Stage, int(meta["stage_id"]))
    campaign = session.get(Campaign, stage.campaign_id) if stage else None
    if campaign is None or campaign.slug != meta.get("campaign") or stage.unit_code != meta.get("unit"):
        return meta, [fail(path, "评分表所指的评审阶段不存在", "the sheet names a stage that does not exist")]
    ctx = stage_context(session, stage.id)
    return meta, header_problems(ctx, meta, path)


def header_problems(ctx: StageContext, meta: dict, path: Path) -> list[FieldError]:
    """Check the stage's state, the expert and the criteria named by the header."""
    errors = []
    if ctx.stage.state != "scoring":
        errors.append(fail(path, f"评审阶段当前不在专家评审状态（{ctx.stage.state}）",
                           f"the stage is not in scoring (it is {ctx.stage.state})"))
    if meta.get("expert") not in unit_experts(ctx):
        errors.append(fail(path, f"{meta.get('expert')} 不是{ctx.unit.name}的评审专家",
                           f"{meta.get('expert')} is not an expert of {ctx.unit.code}"))
    if meta.get("columns") != json.dumps(column_keys(ctx.config.rubric)):
        errors.append(fail(path, "评分细则已变更，请重新生成评分表",
                           "the rubric has changed since the sheet was made; write new sheets"))
    return errors


def read_rows(ws, ctx: StageContext, expert: str, path: Path) -> tuple[list[ScoreRow], list[FieldError]]:
    """Turn the sheet's entry rows into ScoreRows, collecting every cell problem."""
    keys = column_keys(ctx.config.rubric)
    rows: list[ScoreRow] = []
    errors: list[FieldError] = []
    for number, cells in enumerate(ws.iter_rows(min_row=KEY_ROW, max_col=len(keys)), start=KEY_ROW):
        if number == KEY_ROW and [c.value for c in cells] != keys:
            return [], [fail(path, "评分表结构被改动", "the sheet's columns were changed", row=KEY_ROW)]
        if number >= FIRST_ROW + MAX_ROWS:
            return [], [fail(path, f"行数超过 {MAX_ROWS}", f"more than {MAX_ROWS} rows", row=number)]
        if number < FIRST_ROW or all(c.value in (None, "") for c in cells):
            continue
        row, found = read_row(dict(zip(keys, cells, strict=True)), ctx, expert, path, number)
        rows.append(row)
        errors.extend(found)
    return rows, errors


def read_row(cells: dict, ctx: StageContext, expert: str, path: Path,
             number: int) -> tuple[ScoreRow, list[FieldError]]:
    """Read one entry row; values that are not plain numbers become errors."""
    errors: list[FieldError] = []
    scores: dict[str, Decimal | None] = {}
    for c in ctx.config.rubric.criteria:
        scores[c.key], problem = cell_number(cells[c.key])
        if problem:
            errors.append(fail(path, problem[0], problem[1], c.key, number))
    conflict = str(cells["conflict"].value or "").strip().upper()
    if conflict not in TRUE_WORDS | FALSE_WORDS or is_formula(cells["conflict"]):
        errors.append(fail(path, "“是否回避”须填“是”或“否”", "conflict must be 是 or 否", "conflict", number))
    reference = str(cells["reference"].value or "").strip()
    if not reference:
        errors.append(fail(path, "缺少申报编号", "the reference is missing", "reference", number))
    note = "" if cells["note"].value is None else str(cells["note"].value).strip()
    return ScoreRow(reference, expert, scores, conflict in TRUE_WORDS, note, number, path.name), errors


def is_formula(cell) -> bool:
    """Whether a cell holds a formula rather than a typed value."""
    return cell.data_type == "f" or (isinstance(cell.value, str) and cell.value.startswith("="))


def cell_number(cell) -> tuple[Decimal | None, tuple[str, str] | None]:
    """Read a score cell: (value, None), (None, None) when blank, or (None, (zh, en)) when refused."""
    value = cell.value
    if is_formula(cell):
        return None, ("不接受公式，请填写数值", "formulas are not accepted; type the number")
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, None
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return Decimal(str(value)), None
    if isinstance(value, str) and NUMBER.match(value.strip()):
        try:
            return Decimal(value.strip()), None
        except InvalidOperation:
            pass
    return None, (f"“{value}”不是数字", f"{value!r} is not a number")
