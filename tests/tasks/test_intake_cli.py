"""`tuijian apply` and `tuijian template intake`, and the size bounds of intake files."""

import json
import zipfile

from openpyxl import load_workbook
from typer.testing import CliRunner

from cli.main import app
from core.campaign import load_campaign
from models.forms import FIELDS, OWNERSHIP
from tasks.intake import intake_file
from tasks.intake_sheet import sheet_headers
from tasks.synthetic import generate_applications, write_intake_files
from tests.conftest import MINI_CAMPAIGN
from tests.tasks.intake_factories import attach, counts, good_record, write_json

runner = CliRunner()


def test_apply_files_each_file_on_its_own_and_exits_1_if_any_is_refused(mini_campaign, tmp_path):
    good = write_json(tmp_path / "good.json", [attach(good_record(n=1), tmp_path, 1)])
    bad = write_json(tmp_path / "bad.json", [attach(good_record(n=2) | {"uscc": "123"}, tmp_path, 2)])
    result = runner.invoke(app, ["apply", str(good), str(bad)])
    assert result.exit_code == 1
    assert "2031-110100-000001" in result.stdout and "测试1号项目" in result.stdout
    assert "bad.json:1 [uscc]" in result.stderr and "应为 18 位" in result.stderr
    assert "nothing from this file was filed" in result.stderr
    assert counts()["Application"] == 1
    again = runner.invoke(app, ["apply", str(tmp_path / "good.json")])
    assert again.exit_code == 1 and "已申报" in again.stderr


def test_apply_exits_0_when_every_file_is_filed(mini_campaign, tmp_path):
    good = write_json(tmp_path / "good.json", [attach(good_record(n=1), tmp_path, 1)])
    result = runner.invoke(app, ["apply", "--campaign", "mini-test", str(good)])
    assert result.exit_code == 0, result.output
    assert "filed 1" in result.stdout


def test_template_intake_writes_the_sheet_with_dropdowns_and_guide(mini_campaign, tmp_path):
    out = tmp_path / "tpl.xlsx"
    result = runner.invoke(app, ["template", "intake", "--campaign", "mini-test", "-o", str(out)])
    assert result.exit_code == 0, result.output
    wb = load_workbook(out)
    assert wb.sheetnames == ["申报信息", "填写说明", "_lists"] and wb["_lists"].sheet_state == "hidden"
    ws = wb["申报信息"]
    assert [c.value for c in ws[1]] == sheet_headers()
    assert ws.freeze_panes == "A2" and ws["A1"].font.bold
    lists = {dv.formula1 for dv in ws.data_validations.dataValidation if dv.type == "list"}
    assert '"是,否"' in lists and '"' + ",".join(OWNERSHIP) + '"' in lists
    assert any("_lists" in f and "$A$1:$A$2" in f for f in lists)
    assert [c.value for c in wb["_lists"]["A"] if c.value] == ["用户过亿信息消费大平台", "信息消费体验中心"]
    assert [c.value for c in wb["_lists"]["B"]] == ["110100", "110200", "CE01"]
    guide = [row[0] for row in wb["填写说明"].iter_rows(values_only=True)]
    assert set(sheet_headers()) <= set(guide), "the guide explains every column"
    assert {f.label for f in FIELDS if f.kind != "honours"} <= set(sheet_headers())
    assert '"国家级,省市级"' in lists and "相关荣誉·重点实验室（授予年份）" in guide  # 相关荣誉 by part
    profile = next(r for r in wb["填写说明"].iter_rows(values_only=True) if r[0] == "申报单位简介")
    assert "不超过 300 字" in profile[5]
    assert out.stat().st_size > 0 and intake_file(out).errors[0].field == "(file)"  # empty: no rows


def test_oversized_files_are_refused_before_parsing(mini_campaign, tmp_path):
    for name, size in (("big.xlsx", 21 << 20), ("big.json", 17 << 20)):
        with (tmp_path / name).open("wb") as fh:
            fh.truncate(size)
        [error] = intake_file(tmp_path / name).errors
        assert "文件过大" in error.zh


def test_a_zip_bomb_is_refused_from_its_declared_size(mini_campaign, tmp_path):
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive, \
            archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
        chunk = b"\0" * (1 << 20)
        for _ in range(65):
            member.write(chunk)
    assert path.stat().st_size < 1 << 20
    [error] = intake_file(path).errors
    assert "压缩炸弹" in error.zh


def test_a_ten_megabyte_string_is_refused(mini_campaign, tmp_path):
    record = attach(good_record(n=1), tmp_path, 1) | {"profile": "a" * 10_000_000}
    path = tmp_path / "huge.json"
    path.write_text(json.dumps([record], ensure_ascii=False, default=str), encoding="utf-8")
    [error] = intake_file(path).errors
    assert (error.field, "过长" in error.zh) == ("profile", True)
    assert counts()["Application"] == 0


def test_apply_takes_a_folder_of_synthetic_files_in_name_order(mini_campaign, tmp_path):
    config = load_campaign(MINI_CAMPAIGN)
    records = generate_applications(config, count=30, seed=5, invalid_ratio=0.2)
    write_intake_files(records, tmp_path / "in", config=config)
    result = runner.invoke(app, ["apply", str(tmp_path / "in")])
    assert result.exit_code == 1
    assert counts()["Application"] == sum("_flaw" not in r for r in records) == 24
    assert result.stderr.count("nothing from this file was filed") == 6


def test_apply_records_who_filed_in_the_audit_log(mini_campaign, tmp_path):
    import getpass

    from sqlmodel import select

    from core.db import session_scope
    from models import Application, AuditLog

    first = write_json(tmp_path / "a.json", [attach(good_record(n=1), tmp_path, 1)])
    second = write_json(tmp_path / "b.json", [attach(good_record(n=2), tmp_path, 2)])
    assert runner.invoke(app, ["apply", "--by", "王受理（示例）", str(first)]).exit_code == 0
    assert runner.invoke(app, ["apply", str(second)]).exit_code == 0
    with session_scope() as s:
        projects = {a.id: a.project_name for a in s.exec(select(Application))}
        rows = s.exec(select(AuditLog).where(AuditLog.action == "application.file")).all()
        who = {projects[int(r.object_id)]: r.actor for r in rows}
    assert who == {"测试1号项目（虚构）": "王受理（示例）", "测试2号项目（虚构）": getpass.getuser()}
