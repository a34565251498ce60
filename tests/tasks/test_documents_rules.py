"""The pure rules behind the documents: names, order, remarks, letter layout numbers."""

import io
import zipfile
from datetime import UTC, datetime

import pytest
from openpyxl import Workbook

from core.campaign import Remarks, load_campaign
from models import Application, Entry
from tasks.doc_files import safe_component, stable_zip, zip_timestamp
from tasks.document_data import Row, contact_line, recommended_order, remark
from tasks.letter import (
    area_of,
    cn_number,
    letter_attachment_names,
    letter_marks,
    self_reference,
    subject_of,
)
from tasks.letter_docx import char_width, letterhead_size, signature_indents
from tasks.letter_number import format_number
from tasks.summary_table import display_width, put_text, sheet_name, table_specs
from tests.conftest import CAMPAIGN_2023, MINI_CAMPAIGN


def _row(ref: str, *, rank=None, origin=None, passthrough=None, kind="base", title=False) -> Row:
    entry = Entry(id=int(ref[1:]), campaign_id=1, application_id=1, unit_code="X", direction="d",
                  arrived_at=datetime(2031, 1, 1, tzinfo=UTC), status="selected", rank=rank,
                  origin_unit_code=origin, passthrough=passthrough, quota_kind=kind, provincial_title=title)
    return Row(entry, Application(campaign_id=1, direction="d", unit_code="X", dedup_key=ref,
                                  reference=ref, filed_at=datetime(2031, 1, 1, tzinfo=UTC)))


@pytest.mark.parametrize(("text", "expected"), [
    ("甲省", "甲省"),
    ("../../etc/passwd", "_.._etc_passwd"),
    ('a/b\\c:d*e?f"g<h>i|j', "a_b_c_d_e_f_g_h_i_j"),
    ("  .hidden. ", "hidden"),
    ("tab\there\nnew", "tab_here_new"),
    ("", "_"),
    ("...", "_"),
])
def test_safe_component_keeps_names_inside_one_folder(text, expected):
    assert safe_component(text) == expected


BIDI_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


@pytest.mark.parametrize("control", list(BIDI_CONTROLS))
def test_safe_component_removes_bidirectional_controls(control):
    # "报告<RLO>fdp.exe" shows as "报告exe.pdf" in a file manager: the control goes, the truth stays
    assert safe_component(f"报告{control}fdp.exe") == "报告fdp.exe"
    assert safe_component(control * 3) == "_"


def test_safe_component_limits_length():
    assert len(safe_component("长" * 500)) == 80


def test_recommended_order_puts_ranked_first_then_passthrough_by_origin_and_reference():
    rows = [_row("R5", passthrough="extra", origin="440600"), _row("R2", rank=2),
            _row("R4", passthrough="extra", origin="440100"), _row("R1", rank=1),
            _row("R3", passthrough="direct", origin="440100")]
    assert [r.app.reference for r in recommended_order(rows)] == ["R1", "R2", "R3", "R4", "R5"]


def test_remarks_mark_extra_direct_and_provincial_titles():
    marks = load_campaign(CAMPAIGN_2023).remarks
    assert remark(_row("R1", rank=1).entry, marks) == ""
    assert remark(_row("R1", rank=1, kind="extra").entry, marks) == "示范城市额外推荐"
    assert remark(_row("R1", passthrough="extra", kind="extra").entry, marks, "广州市") == "示范城市额外推荐（广州市）"
    assert remark(_row("R1", rank=1, kind="direct").entry, marks) == "特色项目，经省直报工信部"
    assert remark(_row("R1", rank=1, title=True).entry, marks) == "省级示范项目"


def test_remark_wording_comes_from_the_campaign():
    marks = Remarks(extra="额外", direct="直报", title="市级示范")
    assert remark(_row("R1", passthrough="direct", origin="X1").entry, marks, "丙市") == "直报（丙市）"
    assert remark(_row("R1", rank=1, kind="extra", title=True).entry, marks) == "额外；市级示范"
    assert letter_marks(_row("R1", passthrough="extra").entry, marks, "丙市") == ["丙市额外"]
    assert remark(_row("R1", rank=1, kind="extra").entry, Remarks()) == ""  # no such rule, no mark


def test_contact_line_falls_back_to_the_project_leader():
    app = Application(campaign_id=1, direction="d", unit_code="X", dedup_key="k", reference="R",
                      filed_at=datetime(2031, 1, 1, tzinfo=UTC), leader_name="李四", leader_mobile="139")
    assert contact_line(app) == "李四 139"
    app.contact_name, app.contact_mobile = "张三", "138"
    assert contact_line(app) == "张三 138"


@pytest.mark.parametrize("text", ["=HYPERLINK(\"http://evil\",\"x\")", "+1", "-1", "@SUM(A1:A2)",
                                  "\t=1", "\r=1"])
def test_put_text_never_writes_a_formula(text):
    cell = Workbook().active["A1"]
    put_text(cell, text)
    assert cell.data_type == "s"
    assert cell.value == text
    assert cell.quotePrefix is True


def test_put_text_drops_characters_excel_refuses():
    cell = Workbook().active["A1"]
    put_text(cell, "甲\x00乙\x1f丙")
    assert cell.value == "甲乙丙"


def test_widths_and_names():
    assert display_width("甲a") == 3
    assert char_width("2023年8月29日") == 6.5
    assert sheet_name("信息消费[体验]:中心/?") == "信息消费体验中心"
    assert len(sheet_name("长" * 40)) == 31


def test_table_specs_follow_the_receiving_unit_setting():
    # [WH] 三(二): the districts send 武汉 one table per direction (附件3, 4); 武汉 sends 湖北 one
    config = load_campaign(CAMPAIGN_2023)
    district, wh, gd = config.unit("420102"), config.unit("420100"), config.unit("440000")
    specs = table_specs(config, district)
    assert [s.file_name for s in specs] == ["汇总表-用户过亿信息消费大平台.xlsx", "汇总表-信息消费体验中心.xlsx"]
    assert [s.title for s in specs] == [config.directions[k].table_title for k in ("platform", "experience_centre")]
    assert letter_attachment_names(config, district) == [s.file_name for s in specs]
    for unit in (wh, gd, config.unit("440100")):
        assert [(s.direction, s.title, s.file_name) for s in table_specs(config, unit)] == [
            ("", config.summary_title, "汇总表.xlsx")]
    assert letter_attachment_names(config, wh) == ["汇总表.xlsx"]


def test_letter_wording_helpers():
    assert [cn_number(n) for n in (1, 10, 12, 20, 23)] == ["一", "十", "十二", "二十", "二十三"]
    assert self_reference("广东省工业和信息化厅") == "我厅"
    assert self_reference("武汉市经济和信息化局") == "我局"
    assert self_reference("中国移动通信集团有限公司") == "我单位"
    config = load_campaign(CAMPAIGN_2023)
    assert area_of(config.unit("440000")) == "本地区"
    assert {area_of(u) for u in config.units if u.level == "central_enterprise"} == {"本集团"}
    assert subject_of(load_campaign(MINI_CAMPAIGN)) == "2031年测试示范项目"
    assert format_number("粤工信函", 2023, 7) == "粤工信函〔2023〕7号"
    assert format_number("粤工信函", 2023, None) == "粤工信函〔2023〕  号"


@pytest.mark.parametrize(("organ", "date"), [
    ("广东省工业和信息化厅", "2023年8月29日"), ("测试部", "2031年12月31日"), ("甲", "2023年1月1日")])
def test_signature_date_starts_two_characters_right_of_the_organ(organ, date):
    organ_right, date_right = signature_indents(organ, date)
    assert min(organ_right, date_right) == 2
    organ_start = organ_right + char_width(organ)
    date_start = date_right + char_width(date)
    assert organ_start - date_start == pytest.approx(2)


def test_letterhead_fits_the_text_block():
    assert letterhead_size("测试部") == 36
    long = "中国移动通信集团有限公司工业和信息化部门"
    assert letterhead_size(long) * len(long) <= 156 / 25.4 * 72


def test_stable_zip_gives_equal_bytes_for_equal_content():
    def package(stamp: tuple) -> bytes:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr(zipfile.ZipInfo("a.xml", date_time=stamp), "<a/>")
        return buf.getvalue()
    when = datetime(2023, 8, 29, 2, 0, tzinfo=UTC)
    first, second = package((2020, 1, 1, 0, 0, 0)), package((2024, 5, 5, 5, 5, 6))
    assert first != second
    assert stable_zip(first, when) == stable_zip(second, when)
    info = zipfile.ZipFile(io.BytesIO(stable_zip(first, when))).infolist()[0]
    assert info.date_time == (2023, 8, 29, 10, 0, 0)
    assert zip_timestamp(datetime(1970, 1, 1, tzinfo=UTC)) == (1980, 1, 1, 0, 0, 0)
