"""A stage's documents, generated from a real database and read back with openpyxl / python-docx."""

import hashlib
import json
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest
from docx import Document as open_docx
from docx.enum.section import WD_ORIENT
from docx.oxml.ns import qn
from docx.shared import Mm
from openpyxl import load_workbook
from sqlmodel import select

from core.db import session_scope
from models import Entry
from tasks.documents import write_stage_documents
from tasks.manifest import write_manifest
from tests.conftest import MINI_CAMPAIGN
from tests.support import databases
from tests.support import documents as f

HEADERS = ["序号", "项目单位", "项目名称", "项目联系人及电话", "备注"]


@pytest.fixture
def province(db):
    """甲省's approved stage with its documents written."""
    databases.install(MINI_CAMPAIGN)
    with session_scope() as s:
        stage = f.mini_province(s)
        docs = write_stage_documents(s, stage.id)
    return SimpleNamespace(stage_id=stage.id, paths={(d.kind, d.direction): Path(d.path) for d in docs})


def _values(ws, row: int) -> list:
    return [c.value for c in ws[row]][:5]


def test_summary_table_follows_the_template(province):
    path = province.paths[("summary", "")]
    assert path.parent.name == "110000-甲省" and path.name == "汇总表.xlsx"
    ws = load_workbook(path).active
    assert ws["A1"].value == "2031年测试示范项目推荐项目汇总表"
    assert "A1:E1" in {str(r) for r in ws.merged_cells.ranges}
    assert ws["A1"].alignment.horizontal == "center"
    assert ws["A2"].value == "推荐单位：甲省"
    assert _values(ws, 3) == HEADERS
    assert ws["A4"].value == "一、用户过亿信息消费大平台"
    assert _values(ws, 5)[:3] == [1, "乙市云端网络科技有限公司", "云端生活服务平台"]
    assert _values(ws, 6)[:3] == [2, "甲市星河互联网有限公司", "星河社交娱乐平台"]
    assert ws["A7"].value == "二、信息消费体验中心"
    assert _values(ws, 8) == [3, "甲市数字生活有限公司", "甲市数字生活体验中心", "张联系 13800000000", "省级示范项目"]
    assert _values(ws, 9) == [4, "甲市额外体验有限公司", "甲市沉浸式体验街区", "张联系 13800000000",
                              "示范城市额外推荐（甲市）"]
    assert ws["A11"].value == "注意事项："
    assert ws["A12"].value == "1.示范城市在“备注”中注明额外推荐的项目。"
    assert ws.max_row == 12  # not selected and ineligible entries are not listed


def test_summary_table_prints_on_a4_landscape_with_chinese_fonts(province):
    ws = load_workbook(province.paths[("summary", "")]).active
    assert ws.page_setup.orientation == "landscape"
    assert int(ws.page_setup.paperSize) == 9  # A4
    assert int(ws.page_setup.fitToWidth) == 1 and int(ws.page_setup.fitToHeight) == 0
    assert ws.sheet_properties.pageSetUpPr.fitToPage is True
    assert ws.print_title_rows == "$3:$3"
    assert ws.freeze_panes == "A4"
    assert ws["A1"].font.name == "方正小标宋简体"
    assert {ws.cell(r, c).font.name for r in (3, 5) for c in range(1, 6)} == {"宋体"}
    assert ws["A12"].font.name == "仿宋"
    assert ws["B5"].border.left.style == "thin" and ws["B5"].alignment.wrap_text
    assert ws.column_dimensions["B"].width >= 24  # a 10-character company name fits


def test_injected_formulas_stay_text(db):
    databases.install(MINI_CAMPAIGN)
    evil = ["=HYPERLINK(\"http://example.org\",\"点我\")", "+1", "-1", "@SUM(A1:A9)"]
    with session_scope() as s:
        stage = f.stage(s, "mini-test", "110100")
        app = f.application(s, "mini-test", unit_code="110100", direction="platform",
                            enterprise=evil[0], project=evil[1], contact=evil[2], mobile=evil[3])
        f.entry(s, app, unit_code="110100", rank=1)
        paths = {d.kind: Path(d.path) for d in write_stage_documents(s, stage.id)}
    for kind in ("summary", "export"):
        ws = load_workbook(paths[kind]).active
        cells = [c for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
        risky = [c for c in cells if c.value.startswith(("=", "+", "-", "@"))]
        assert risky and all(c.data_type == "s" for c in risky)
        sheet_xml = zipfile.ZipFile(paths[kind]).read("xl/worksheets/sheet1.xml").decode()
        assert "<f>" not in sheet_xml and "<f " not in sheet_xml
    ws = load_workbook(paths["summary"]).active
    assert ws["B5"].value == evil[0] and ws["C5"].value == "+1" and ws["D5"].value == "-1 @SUM(A1:A9)"
    assert ws["A7"].value == "（无推荐项目）"


def test_workbooks_carry_no_links_or_macros(province):
    for kind in ("summary", "export"):
        names = zipfile.ZipFile(province.paths[(kind, "")]).namelist()
        assert not [n for n in names if "externalLink" in n or "vba" in n.lower()]
        types = zipfile.ZipFile(province.paths[(kind, "")]).read("[Content_Types].xml").decode()
        assert "macroEnabled" not in types


def test_export_lists_every_entry_with_scores_and_decisions(db):
    databases.install(MINI_CAMPAIGN)
    with session_scope() as s:
        stage = f.mini_province(s)
        second = s.exec(select(Entry).order_by(Entry.id)).all()[1]
        f.conflict(s, second, "p-e2", "同一企业")
        docs = write_stage_documents(s, stage.id)
    ws = load_workbook(next(Path(d.path) for d in docs if d.kind == "export"))["评审明细"]
    header = [c.value for c in ws[1]]
    assert header[:8] == ["序号", "申报编号", "方向", "项目单位", "项目名称", "报送来源", "状态", "形式审查意见"]
    assert header[8:12] == ["省专家一·示范性", "省专家一·创新性", "省专家二·示范性", "省专家二·创新性"]
    assert header[-5:] == ["综合得分", "排名", "推荐类别", "省级示范项目", "决定说明"]
    body = {r[3]: r for r in ws.iter_rows(min_row=2, values_only=True)}
    assert len(body) == 6
    top = body["乙市云端网络科技有限公司"]
    assert top[6] == "推荐" and top[8:12] == (92, 90, 93, 91) and top[-5:-3] == (91.5, 1)
    assert top[5] == "乙市"
    assert body["甲市星河互联网有限公司"][10:12] == ("回避", "回避")
    assert body["乙市落选科技有限公司"][6] == "未推荐"
    assert body["乙市落选科技有限公司"][-1] == "未入选（排名未进入推荐名额）"
    assert body["乙市不合格有限公司"][6:8] == ("不符合申报条件", "体验中心面积不足200平方米")
    assert body["甲市额外体验有限公司"][-3] == "示范城市额外推荐"
    conflicts = list(load_workbook(next(Path(d.path) for d in docs if d.kind == "export"))["回避情况"]
                     .iter_rows(min_row=2, values_only=True))
    assert conflicts == [(conflicts[0][0], "甲市星河互联网有限公司", "省专家二", "同一企业")]


def test_letter_is_laid_out_as_a_gb9704_letter(province):
    doc = open_docx(province.paths[("letter", "")])
    section = doc.sections[0]
    assert section.orientation == WD_ORIENT.PORTRAIT
    assert abs(section.page_width - Mm(210)) < Mm(0.2) and abs(section.page_height - Mm(297)) < Mm(0.2)
    for side, mm in (("top", 37), ("bottom", 35), ("left", 28), ("right", 26)):
        assert abs(getattr(section, f"{side}_margin") - Mm(mm)) < Mm(0.2)
    texts = [p.text for p in doc.paragraphs]
    head = doc.paragraphs[0]
    assert head.text == "甲省工业和信息化主管部门" and head.alignment == 1
    assert str(head.runs[0].font.color.rgb) == "E60012"
    assert "甲工信函〔2031〕1号" in texts
    title = next(p for p in doc.paragraphs if p.text == "关于推荐2031年测试示范项目的函")
    assert title.runs[0].font.size.pt == 22
    assert title.runs[0]._r.rPr.rFonts.get(qn("w:eastAsia")) == "方正小标宋简体"
    assert "测试部办公厅：" in texts
    body = next(p for p in doc.paragraphs if p.text.startswith("根据《关于组织开展测试示范项目申报工作的通知》"))
    assert body.runs[0].font.size.pt == 16
    assert body.runs[0]._r.rPr.rFonts.get(qn("w:eastAsia")) == "仿宋_GB2312"
    assert doc.styles["Normal"].paragraph_format.line_spacing.pt == pytest.approx(28.9, abs=0.05)
    assert "真实性、合规性" in body.text
    assert any("“用户过亿信息消费大平台”方向2个" in t and "示范城市额外推荐项目1个" in t for t in texts)
    assert "2.甲市额外体验有限公司：甲市沉浸式体验街区（甲市示范城市额外推荐）" in texts
    assert texts[-4:] == ["甲省工业和信息化主管部门", "2031年6月18日", "", "（联系人：省联系人）"]


def test_letter_attachments_are_exactly_the_files_sent(province):
    doc = open_docx(province.paths[("letter", "")])
    lines = [p.text for p in doc.paragraphs if p.text.startswith("附件：")]
    sent = [p.name for (kind, _), p in province.paths.items() if kind == "summary"]
    assert lines == [f"附件：{name}" for name in sent] == ["附件：汇总表.xlsx"]
    assert all((province.paths[("letter", "")].parent / name).is_file() for name in sent)


def test_per_direction_tables_and_safe_folder_names(db, tmp_path):
    text = MINI_CAMPAIGN.read_text(encoding="utf-8").replace(
        'code = "110000"\nname = "甲省"', 'code = "110000"\nname = "甲/省"').replace(
        'code = "M"\nname = "测试部"', 'code = "M"\nname = "测试部"\nchild_per_direction_tables = true')
    variant = tmp_path / "variant.toml"
    variant.write_text(text, encoding="utf-8")
    databases.install(variant)
    with session_scope() as s:
        stage = f.mini_province(s)
        docs = write_stage_documents(s, stage.id)
    summaries = {d.direction: Path(d.path) for d in docs if d.kind == "summary"}
    assert set(summaries) == {"platform", "experience_centre"}
    folder = summaries["platform"].parent
    assert folder.name == "110000-甲_省" and folder.parent.name == "mini-test"
    ws = load_workbook(summaries["experience_centre"]).active
    assert ws.title == "信息消费体验中心"
    assert ws["A1"].value == "2031年测试示范项目推荐项目汇总表（信息消费体验中心）"
    assert [ws["B4"].value, ws["B5"].value] == ["甲市数字生活有限公司", "甲市额外体验有限公司"]
    letter = open_docx(next(Path(d.path) for d in docs if d.kind == "letter"))
    lines = [p.text for p in letter.paragraphs if p.text.startswith(("附件：", "2.汇总表"))]
    assert lines == ["附件：1.汇总表-用户过亿信息消费大平台.xlsx", "2.汇总表-信息消费体验中心.xlsx"]
    assert sorted(p.name for p in folder.glob("汇总表*")) == sorted(p.name for p in summaries.values())


def test_manifest_lists_every_document_with_its_hash(province):
    with session_scope() as s:
        campaign = f.campaign(s, "mini-test")
        path = write_manifest(s, campaign.id)
    manifest = json.loads(path.read_text(encoding="utf-8"))
    assert manifest["campaign"] == "mini-test"
    files = {(d["kind"], d["direction"]): d for d in manifest["documents"]}
    assert set(files) == set(province.paths)
    for key, p in province.paths.items():
        assert files[key]["file"] == f"110000-甲省/{p.name}"
        assert files[key]["sha256"] == hashlib.sha256(p.read_bytes()).hexdigest()
    assert not list(path.parent.glob(".*.tmp"))


def test_letter_package_holds_only_the_letter(province):
    names = zipfile.ZipFile(province.paths[("letter", "")]).namelist()
    assert "word/document.xml" in names and not [n for n in names if "thumbnail" in n]
    assert "<script" not in province.paths[("letter_html", "")].read_text(encoding="utf-8")
