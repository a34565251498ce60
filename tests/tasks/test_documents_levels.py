"""Settings a unit gives the units reporting to it: the 注意事项 under their 汇总表 ([GD] 附件)
and one table per direction ([WH] 附件3, 4), on the 2023 campaign, read back with openpyxl."""

from pathlib import Path

from docx import Document as open_docx
from openpyxl import load_workbook

from core.campaign import load_campaign
from core.db import session_scope
from tasks.documents import write_stage_documents
from tests.conftest import CAMPAIGN_2023
from tests.support import documents as f

SLUG = "2023-xinxi-xiaofei"
GD_NOTES = load_campaign(CAMPAIGN_2023).unit("440000").child_summary_notes


def _written(unit_code: str) -> dict[tuple[str, str], Path]:
    with session_scope() as s:
        docs = write_stage_documents(s, f.stage(s, SLUG, unit_code).id)
    return {(d.kind, d.direction): Path(d.path) for d in docs}


def _texts(path: Path) -> list[str]:
    ws = load_workbook(path).active
    return [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]


def test_guangdong_notes_print_only_on_the_tables_guangdong_asks_for(campaign_2023):
    assert len(GD_NOTES) == 2 and "广州、佛山" in GD_NOTES[0]
    with session_scope() as s:
        add = f._adder(s, SLUG, "440100")
        add("experience_centre", "广州示例数字文旅有限公司", "广州天河数字生活信息消费体验中心", rank=1)
    texts = _texts(_written("440100")[("summary", "")])  # 广州 → 广东省
    assert texts[-3:] == ["注意事项：", *GD_NOTES]
    assert texts[1] == "推荐单位：广州市"
    # 江岸区 → 武汉, 湖北 → MIIT, 深圳 (计划单列市) → MIIT, a central enterprise → MIIT, 广东 → MIIT
    for code in ("420102", "420000", "440300", "CE-CMCC", "440000"):
        for (kind, _), path in _written(code).items():
            if kind == "summary":
                texts = _texts(path)
                assert "注意事项：" not in texts and not set(GD_NOTES) & set(texts), (code, path.name)


def test_wuhan_districts_send_a_table_per_direction_and_wuhan_sends_one(campaign_2023):
    with session_scope() as s:
        f.sample_2023(s, SLUG)
    config = load_campaign(CAMPAIGN_2023)
    district, wuhan = _written("420102"), _written("420100")
    assert sorted(d for k, d in district if k == "summary") == ["experience_centre", "platform"]
    ws = load_workbook(district[("summary", "experience_centre")]).active
    assert ws["A1"].value == config.directions["experience_centre"].table_title
    assert ws["A2"].value == "推荐单位：江岸区"
    assert [ws["C4"].value, ws["C5"].value] == ["光谷数字消费体验中心", "汉口江滩数字文旅体验馆"]
    lines = [p.text for p in open_docx(district[("letter", "")]).paragraphs if p.text.startswith(("附件：", "2.汇总表"))]
    assert lines == ["附件：1.汇总表-用户过亿信息消费大平台.xlsx", "2.汇总表-信息消费体验中心.xlsx"]
    assert [d for k, d in wuhan if k == "summary"] == [""]
    ws = load_workbook(wuhan[("summary", "")]).active
    assert ws["A1"].value == config.summary_title and ws["A2"].value == "推荐单位：武汉市"
    assert "特色项目，经省直报工信部" in [c.value for c in ws["E"]]
    lines = [p.text for p in open_docx(wuhan[("letter", "")]).paragraphs if p.text.startswith("附件")]
    assert lines == ["附件：汇总表.xlsx"]
