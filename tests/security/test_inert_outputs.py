"""Applicant text is inert in every output. Hostile strings (script and event-handler HTML,
spreadsheet formulas and DDE, path traversal, right-to-left override, CR LF header injection,
Markdown) are filed through the real intake, go through a whole stage (scores, approval,
documents, forward, mail), and every output is read back: the xlsx files hold no formula, the
推荐函 shows the text as text, HTML (letter, e-mails, dashboard) is escaped, mail headers are
not split, no file name carries applicant text, and Prefect's Markdown artifacts are escaped."""

import asyncio
import json
import zipfile

import pytest
from docx import Document as Docx
from fastapi.testclient import TestClient

from core.clock import parse_local
from core.db import session_scope
from tasks.chain import set_clock
from tasks.dashboard_app import create_app
from tasks.intake import intake_file
from tasks.selection import plain_cell
from tests.security import hostile
from tests.support import databases
from tests.support.people import answer_until
from tests.support.prefect_traces import artifacts_of
from tests.support.stage_runs import run_in_thread
from tests.support.world import MINI_CAMPAIGN, SLUG, UNIT, World
from tests.tasks.intake_factories import attach, good_record

pytestmark = pytest.mark.prefect
DIRECTIONS = ("experience_centre", "experience_centre", "experience_centre", "platform")


def file_hostile_applications(folder) -> list[str]:
    """File four applications carrying the hostile strings with 乙市, through the intake."""
    records = []
    for i, direction in enumerate(DIRECTIONS):
        record = good_record(direction, n=900 + i, unit=UNIT) | {k: v[i] for k, v in hostile.FIELDS.items()}
        records.append(attach(record, folder, 900 + i))
    path = folder / "hostile.json"
    path.write_text(json.dumps(records, ensure_ascii=False, default=str), encoding="utf-8")
    result = intake_file(path)
    assert result.ok, result.errors
    return [f.reference for f in result.filed]


@pytest.fixture
def closed_stage(sqlite_db, prefect_server, smtp_server, tmp_path):
    """The stage of 乙市 run to its end over the hostile applications; returns its world."""
    from flows.stage import stage

    databases.install(MINI_CAMPAIGN)
    with session_scope() as s:
        set_clock(s, SLUG, parse_local("2031-06-01 09:00"))
    file_hostile_applications(tmp_path)
    with session_scope() as s:
        set_clock(s, SLUG, parse_local("2031-06-10 18:00"))
    thread, box = run_in_thread(stage, SLUG, UNIT)
    world = World(sqlite_db, tmp_path, smtp_server)
    answer_until(lambda: not thread.is_alive(), world)
    assert box.get("result") == "closed", box
    yield world
    world.dispose()


def test_hostile_applicant_text_stays_text_in_every_output(closed_stage):
    world = closed_stage
    unit_dir = next((world.home / "out" / SLUG).glob(f"{UNIT}-*"))
    workbooks = sorted((world.home / "out").rglob("*.xlsx"))
    assert len(workbooks) >= 3  # 汇总表, 评审明细, 评分表
    assert [p for wb in workbooks for p in hostile.xlsx_problems(wb)] == []
    details = hostile.xlsx_text(unit_dir / "评审明细.xlsx")
    assert all(s in details for s in (hostile.FORMULA, hostile.SCRIPT, hostile.PLUS, hostile.IMG, hostile.CRLF))
    assert f"{hostile.AT} 13800138000" in hostile.xlsx_text(unit_dir / "汇总表.xlsx")  # 项目联系人及电话

    letter = Docx(unit_dir / "推荐函.docx")
    shown = "\n".join(p.text for p in letter.paragraphs) + "\n".join(
        c.text for t in letter.tables for r in t.rows for c in r.cells)
    assert f"{hostile.TRAVERSAL}体验中心" in shown  # the selected centre, as typed
    with zipfile.ZipFile(unit_dir / "推荐函.docx") as package:
        body = package.read("word/document.xml").decode()
    assert "instrText" not in body and "fldSimple" not in body  # no field codes

    html = {"推荐函.html": (unit_dir / "推荐函.html").read_text(encoding="utf-8")}
    for r in world.smtp.messages:
        part = r.message.get_body(("html",))
        html[f"mail to {r.rcpt_tos}: {r.message['Subject']}"] = part.get_content() if part else ""
    client = TestClient(create_app())
    for page in (f"/c/{SLUG}", f"/c/{SLUG}/u/{UNIT}", f"/c/{SLUG}/u/110000"):
        response = client.get(page)
        assert response.status_code == 200
        html[page] = response.text
    assert [p for where, text in html.items() for p in hostile.html_problems(where, text)] == []
    assert "&lt;script&gt;" in html[f"/c/{SLUG}/u/{UNIT}"]

    assert_mail_headers_intact(world)
    assert hostile.name_problems(world.home) == []
    markdown = [a.data for a in asyncio.run(artifacts_of(world.claimed_run())) if a.type == "markdown"]
    assert markdown and [p for md in markdown for p in hostile.html_problems("artifact", md)] == []
    request = next(r.message for r in world.smtp.messages if "c2-off@example.org" in r.rcpt_tos)
    name = hostile.FIELDS["enterprise_name"][0]
    # plain text shows the name as typed; the HTML part escapes it (no entities in the text part)
    assert plain_cell(name) in request.get_body(("plain",)).get_content()
    html_part = request.get_body(("html",)).get_content()
    assert "<script>" not in html_part and "&lt;script&gt;" in html_part


def assert_mail_headers_intact(world: World) -> None:
    """One recipient per message, no injected header, one-line subjects."""
    assert world.smtp.messages
    for r in world.smtp.messages:
        assert len(r.rcpt_tos) == 1 and "evil@example.com" not in r.rcpt_tos[0]
        headers = r.raw.split(b"\r\n\r\n", 1)[0].decode("ascii", errors="replace")
        assert not any(line.lower().startswith("bcc:") for line in headers.splitlines())
        assert "\n" not in str(r.message["Subject"]) and "\r" not in str(r.message["Subject"])
