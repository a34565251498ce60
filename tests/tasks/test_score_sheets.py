"""Score sheets: written per expert, read back with openpyxl, filled in, imported (and the CLI)."""

from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlmodel import func, select
from typer.testing import CliRunner

from cli.main import app
from core.db import session_scope
from models import AuditLog, Score
from tasks.score_sheet_layout import FIRST_ROW, HEAD_ROW, KEY_ROW, META, SHEET
from tasks.score_sheets import import_score_sheet, write_score_sheets
from tests.tasks import scoring_factories as f

runner = CliRunner()


def write(ids: dict, folder: Path) -> dict[str, Path]:
    with session_scope() as s:
        paths = write_score_sheets(s, ids["stage"], folder)
    return {p.name: p for p in paths}


def fill(path: Path, values: dict[str, dict[str, object]]) -> Path:
    """Type values into an expert's sheet by reference and column key, as the expert would."""
    wb = load_workbook(path)
    ws = wb[SHEET]
    cols = {c.value: c.column for c in ws[KEY_ROW]}
    for row in range(FIRST_ROW, ws.max_row + 1):
        for key, value in values.get(ws.cell(row, 1).value, {}).items():
            ws.cell(row, cols[key], value)
    wb.save(path)
    return path


def count(model) -> int:
    with session_scope() as s:
        return s.exec(select(func.count()).select_from(model)).one()


def test_sheets_are_protected_validated_and_self_describing(db, tmp_path):
    ids = f.province_stage(tmp_path)
    sheets = write(ids, tmp_path / "out")
    assert sorted(sheets) == ["评分表-甲省-省专家一.xlsx", "评分表-甲省-省专家二.xlsx"]
    wb = load_workbook(sheets["评分表-甲省-省专家二.xlsx"])
    ws = wb[SHEET]
    assert "省专家二" in ws["A1"].value and "Score each project" in ws["A2"].value
    assert [c.value for c in ws[KEY_ROW]] == ["reference", "enterprise", "project", "direction",
                                               "demo", "innovation", "conflict", "note"]
    assert ws.row_dimensions[KEY_ROW].hidden
    assert ws.cell(HEAD_ROW, 5).value.startswith("示范性（满分100）")
    refs = [ws.cell(r, 1).value for r in range(FIRST_ROW, ws.max_row + 1)]
    assert refs == [ids["ref"]["B"], ids["ref"]["C"]]  # A left out: p-e2 conflicts with it
    assert ws.protection.sheet is True and wb.security.lockStructure is True
    assert all(ws.cell(FIRST_ROW, c).protection.locked for c in range(1, 5))
    assert not any(ws.cell(FIRST_ROW, c).protection.locked for c in range(5, 9))
    assert ws["A1"].protection.locked and ws.cell(HEAD_ROW, 5).protection.locked
    checks = {(dv.type, str(dv.sqref), dv.formula1, dv.formula2) for dv in ws.data_validations.dataValidation}
    assert checks == {("decimal", "E5:E6", "0", "100"), ("decimal", "F5:F6", "0", "100"),
                      ("list", "G5:G6", '"是,否"', None)}
    meta = {r[0].value: r[1].value for r in wb[META].iter_rows()}
    assert wb[META].sheet_state == "veryHidden" and wb[META].protection.sheet
    assert (meta["campaign"], meta["unit"], meta["stage_id"], meta["expert"]) == ("mini-test", "110000", ids["stage"], "p-e2")
    assert meta["criteria"] == '["demo", "innovation"]'


def test_filled_sheet_imports_all_and_again_harmlessly(db, tmp_path):
    ids = f.province_stage(tmp_path)
    sheets = write(ids, tmp_path / "out")
    ref = ids["ref"]
    path = fill(sheets["评分表-甲省-省专家二.xlsx"], {
        ref["B"]: {"demo": 88, "innovation": 91.25},
        ref["C"]: {"conflict": "是", "note": "曾任该企业顾问"}})
    result = import_score_sheet(path)
    assert result.errors == [] and (result.scored, result.conflicts, result.blank) == (1, 1, 0)
    assert result.missing == 3 and not result.resumed  # p-e1 still owes A, B, C
    audits = count(AuditLog)
    again = import_score_sheet(path)
    assert again.errors == [] and count(AuditLog) == audits
    with session_scope() as s:
        got = {(x.criterion, x.value, x.source) for x in s.exec(select(Score))}
    assert got == {("demo", Decimal(88), "sheet"), ("innovation", Decimal("91.25"), "sheet")}
    rewritten = write(ids, tmp_path / "again")["评分表-甲省-省专家二.xlsx"]
    ws = load_workbook(rewritten)[SHEET]
    assert [ws.cell(FIRST_ROW + i, 1).value for i in range(2)] == [ref["B"], None]  # C now a conflict
    assert (ws.cell(FIRST_ROW, 5).value, ws.cell(FIRST_ROW, 6).value) == (88, 91.25)  # pre-filled


def test_bad_cells_are_all_reported_with_row_and_column(db, tmp_path):
    ids = f.province_stage(tmp_path)
    path = write(ids, tmp_path / "out")["评分表-甲省-省专家一.xlsx"]
    ref = ids["ref"]
    fill(path, {ref["A"]: {"demo": "=50+40", "innovation": 101},
                ref["B"]: {"demo": "高", "innovation": True, "conflict": "也许"},
                ref["C"]: {"demo": 70}})
    result = import_score_sheet(path)
    located = [(e.row, e.field) for e in result.errors]
    assert located == [(5, "E列/demo"), (6, "E列/demo"), (6, "F列/innovation"), (6, "G列/conflict")]
    assert "公式" in result.errors[0].zh and result.errors[0].file == path.name
    fill(path, {ref["A"]: {"demo": 50, "innovation": 101}, ref["B"]: {"demo": 1, "innovation": 1,
                                                                       "conflict": "否"}})
    result = import_score_sheet(path)
    assert [(e.row, e.field) for e in result.errors] == [(5, "F列/innovation"), (7, "F列/innovation")]
    assert count(Score) == 0


def test_foreign_stale_or_unready_files_are_refused(db, tmp_path):
    ids = f.province_stage(tmp_path)
    path = write(ids, tmp_path / "out")["评分表-甲省-省专家一.xlsx"]
    with session_scope() as s:
        f.stage(s, ids["cid"], state="awaiting_approval")
    assert "not in scoring" in import_score_sheet(path).errors[0].en
    with session_scope() as s:
        f.stage(s, ids["cid"], state="scoring")
    wb = load_workbook(path)
    wb[SHEET].cell(KEY_ROW, 5, "other")
    wb.save(tmp_path / "changed.xlsx")
    assert "columns were changed" in import_score_sheet(tmp_path / "changed.xlsx").errors[0].en
    del wb[META]
    wb.save(tmp_path / "foreign.xlsx")
    assert "not a score sheet" in import_score_sheet(tmp_path / "foreign.xlsx").errors[0].en
    (tmp_path / "junk.xlsx").write_bytes(b"PK not really")
    assert "cannot read" in import_score_sheet(tmp_path / "junk.xlsx").errors[0].en
    (tmp_path / "huge.xlsx").write_bytes(b"\0" * (5 * 1024 * 1024 + 1))
    assert "over 5 MB" in import_score_sheet(tmp_path / "huge.xlsx").errors[0].en
    (tmp_path / "a.csv").write_text("reference,demo\n")
    assert "only .xlsx" in import_score_sheet(tmp_path / "a.csv").errors[0].en
    assert "no such file" in import_score_sheet(tmp_path / "missing.xlsx").errors[0].en


def test_cli_writes_imports_and_reports(db, tmp_path):
    ids = f.province_stage(tmp_path)
    out = tmp_path / "cli"
    done = runner.invoke(app, ["scores", "sheets", "110000", "--campaign", "mini-test", "-o", str(out)])
    assert done.exit_code == 0, done.output
    path = out / "评分表-甲省-省专家一.xlsx"
    assert path.is_file()
    fill(path, {ids["ref"]["A"]: {"demo": 120, "innovation": 1}})
    bad = runner.invoke(app, ["scores", "import", str(path)])
    assert bad.exit_code == 1 and f"{path.name}:5 [E列/demo]" in bad.output
    assert "超出范围 0–100" in bad.output and "F列" not in bad.output
    fill(path, {ids["ref"]["A"]: {"demo": 60, "innovation": 70}})
    good = runner.invoke(app, ["scores", "import", str(path)])
    assert good.exit_code == 0, good.output
    shown = runner.invoke(app, ["scores", "status", "110000"])
    assert shown.exit_code == 0 and "待评 4 份" in shown.output and ids["ref"]["C"] in shown.output
    assert runner.invoke(app, ["scores", "status", "NOPE"]).exit_code == 1


@pytest.mark.prefect
def test_last_sheet_resumes_the_waiting_flow(prefect_server, sqlite_db, tmp_path):
    from tests.tasks.paused_flow import paused_scores_flow

    ids = f.province_stage(tmp_path)
    sheets = write(ids, tmp_path / "out")
    ref = ids["ref"]
    with paused_scores_flow(ids["stage"]) as run:
        with session_scope() as s:
            f.stage(s, ids["cid"], flow_run_id=run.id)
        first = import_score_sheet(fill(sheets["评分表-甲省-省专家一.xlsx"], {
            r: {"demo": 80, "innovation": 80} for r in (ref["A"], ref["B"], ref["C"])}))
        assert first.errors == [] and first.missing == 2 and not first.resumed
        last = import_score_sheet(fill(sheets["评分表-甲省-省专家二.xlsx"], {
            r: {"demo": 90, "innovation": 70} for r in (ref["B"], ref["C"])}))
        assert last.errors == [] and last.missing == 0 and last.resumed, last.resume_problem
        value = run.join()
    assert value == {"expert": "", "rows": [], "sheets_imported": True}
    again = import_score_sheet(sheets["评分表-甲省-省专家二.xlsx"])
    assert again.errors == [] and not again.resumed and "not paused" in again.resume_problem
