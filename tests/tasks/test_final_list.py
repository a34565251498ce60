"""The final list's files: xlsx read back cell by cell, the HTML page escaped, Document rows and manifest."""

import json
from html.parser import HTMLParser
from pathlib import Path

from openpyxl import load_workbook
from sqlmodel import select

from core.db import session_scope
from core.settings import get_settings
from models import Application, AuditLog, Document
from tasks.final_list import write_final_list
from tests.tasks.test_title_changes import published

HOSTILE = "<script>alert('x')</script>&Co"
FORMULA = "=HYPERLINK(\"http://evil\")"


class _Text(HTMLParser):
    """Collect the page's text and every tag it opens."""

    def __init__(self) -> None:
        super().__init__()
        self.text, self.tags = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        self.text.append(data)


def _docs() -> dict[str, Document]:
    with session_scope() as s:
        return {d.kind: d for d in s.exec(select(Document).where(Document.kind.startswith("final_list")))}


def test_xlsx_cell_by_cell(mini_campaign):
    refs = published(centres=2, platforms=1, names={1: FORMULA})
    with session_scope() as s:
        apps = {a.reference: a for a in s.exec(select(Application))}
    ws = load_workbook(_docs()["final_list"].path)["示范项目名单"]
    assert ws["A1"].value == "测试示范项目（虚构）名单"
    assert ws["A2"].value.startswith("测试部办公厅　公示期 / 公示 period：2031-07-10 10:00 至 2031-07-17 10:00")
    assert ws["A2"].value.endswith("发布日期：2031年7月17日")
    assert [c.value for c in ws[3]] == ["序号", "项目名称", "项目单位", "推荐单位", "备注"]
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=4)]
    first, second, third = (apps[r] for r in refs)
    assert rows == [
        ["一、用户过亿信息消费大平台", None, None, None, None],
        [1, third.project_name, third.enterprise_name, "甲省", None],
        ["二、信息消费体验中心", None, None, None, None],
        [2, first.project_name, first.enterprise_name, "甲省", None],
        [3, second.project_name, FORMULA, "甲省", None],
    ]
    assert ws.cell(8, 3).data_type == "s"  # a formula-looking name stays text
    history = load_workbook(_docs()["final_list"].path)["名单变动记录"]
    assert history["A3"].value == "名单发布后无变动 / no change since the list was published"


def test_html_escapes_applicant_text(mini_campaign):
    refs = published(centres=1, platforms=0, names={0: HOSTILE})
    page = Path(_docs()["final_list_html"].path).read_text(encoding="utf-8")
    assert "<script>" not in page and "&lt;script&gt;" in page and "&amp;Co" in page
    parser = _Text()
    parser.feed(page)
    assert "script" not in parser.tags
    assert HOSTILE in "".join(parser.text)  # shown to readers exactly as filed
    assert "测试示范项目（虚构）名单" in "".join(parser.text) and refs


def test_documents_manifest_and_stable_rewrite(db):
    from tests.conftest import MINI_CAMPAIGN
    from tests.support import databases

    databases.install(MINI_CAMPAIGN)
    published(centres=1, platforms=1)
    before = {k: (d.sha256, Path(d.path).read_bytes()) for k, d in _docs().items()}
    assert set(before) == {"final_list", "final_list_html"}
    with session_scope() as s:
        write_final_list(s, "mini-test")
        writes = s.exec(select(AuditLog).where(AuditLog.action == "final_list.write")).all()
    assert len(writes) == 1  # the rewrite changed nothing, so nothing new is audited
    after = {k: (d.sha256, Path(d.path).read_bytes()) for k, d in _docs().items()}
    assert after == before
    manifest = json.loads((get_settings().output_dir / "mini-test" / "manifest.json").read_text(encoding="utf-8"))
    files = {d["kind"]: d for d in manifest["documents"] if d["kind"].startswith("final_list")}
    assert files["final_list"]["file"] == "示范项目名单.xlsx" and files["final_list_html"]["file"] == "示范项目名单.html"
    assert files["final_list"]["unit_code"] == "M" and files["final_list"]["sha256"] == before["final_list"][0]
