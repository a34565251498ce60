"""名单动态调整: a reported change and a revocation reach people by real SMTP and the list's history."""

import asyncio
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from core.db import session_scope
from core.errors import Conflict, ValidationFailed
from models import Application, AuditLog, Document
from tasks.final_list import write_final_list
from tasks.outbox import deliver_pending
from tasks.publicity import close_publicity, open_publicity
from tasks.title_changes import report_change, revoke_title
from tests.conftest import MINI_CAMPAIGN
from tests.support import databases
from tests.tasks.final_factories import SLUG, ministry_list, move_clock


def published(**kw) -> list[str]:
    """A closed 公示 and a written final list; return the references on it."""
    refs = ministry_list(**kw)
    with session_scope() as s:
        open_publicity(s, SLUG, actor="m-con")
    move_clock("2031-07-17 10:00")
    with session_scope() as s:
        close_publicity(s, SLUG)
        write_final_list(s, SLUG)
    return refs


def _final_files() -> tuple[Path, Path]:
    with session_scope() as s:
        docs = {d.kind: Path(d.path) for d in s.exec(select(Document).where(Document.kind.startswith("final_list")))}
    return docs["final_list"], docs["final_list_html"]


def test_revocation_mails_applicant_and_recommending_unit_and_shows_in_history(db, smtp_server):
    databases.install(MINI_CAMPAIGN)
    revoked, kept = published(centres=1, platforms=1)
    move_clock("2032-03-01 10:00")
    with session_scope() as s:
        revoke_title(s, SLUG, revoked, reason="inspection_failed", note="2032年抽查：体验中心已停业", actor="m-con")
        app = s.exec(select(Application).where(Application.reference == revoked)).one()
        applicant, project = app.contact_email, app.project_name
    report = asyncio.run(deliver_pending())
    assert report.sent == 2 and report.failed == 0
    got = {m.rcpt_tos[0]: m.message for m in smtp_server.messages}
    assert set(got) == {"p-con@example.org", applicant}  # 甲省 recommended it to 测试部; the applicant
    for msg in got.values():
        assert "取消示范项目资格" in str(msg["Subject"]) and project in str(msg["Subject"])
        text = msg.get_body(preferencelist=("plain",)).get_content()
        assert "监督检查不合格：2032年抽查：体验中心已停业" in text and "甲省" in text
    xlsx, html = _final_files()
    wb = load_workbook(xlsx)
    listed = [wb["示范项目名单"].cell(r, 2).value for r in range(4, wb["示范项目名单"].max_row + 1)]
    assert project not in listed
    history = [[c.value for c in row] for row in wb["名单变动记录"].iter_rows(min_row=3)]
    assert history == [["2032-03-01", "取消示范项目资格并予以通报", project, app.enterprise_name,
                        "监督检查不合格", "监督检查不合格：2032年抽查：体验中心已停业"]]
    page = html.read_text(encoding="utf-8")
    assert "发布日期 / Published 2031年7月17日" in page and "更新日期 / Updated 2032年3月1日" in page
    assert wb["示范项目名单"]["A2"].value.endswith("发布日期：2031年7月17日　更新日期：2032年3月1日")
    history_part = page[page.index('id="history"'):]
    assert project in history_part and "title revoked" in history_part
    with session_scope() as s:
        row = s.exec(select(AuditLog).where(AuditLog.action == "title.revoked")).one()
        assert row.actor == "m-con" and row.after["detail"] == "inspection_failed"
    with pytest.raises(Conflict), session_scope() as s:
        revoke_title(s, SLUG, revoked, reason="false_material", note="再次", actor="m-con")


def test_reported_change_keeps_the_title_with_a_remark(mini_campaign, smtp_server):
    ref, _ = published(centres=1, platforms=1)
    move_clock("2031-12-01 10:00")
    with session_scope() as s:
        report_change(s, SLUG, ref, kind="merger", reason="与某集团公司完成兼并，书面报备见附件", actor="m-con")
        report_change(s, SLUG, ref, kind="bankruptcy", reason="进入破产清算程序", actor="m-con")
        project = s.exec(select(Application).where(Application.reference == ref)).one().project_name
    with pytest.raises(ValidationFailed), session_scope() as s:
        report_change(s, SLUG, ref, kind="rename", reason="更名", actor="m-con")
    asyncio.run(deliver_pending())
    assert len(smtp_server.messages) == 4  # two events, each to 甲省's contact and the applicant
    xlsx, _ = _final_files()
    ws = load_workbook(xlsx)["示范项目名单"]
    row = next(r for r in range(4, ws.max_row + 1) if ws.cell(r, 2).value == project)
    assert ws.cell(row, 4).value == "甲省"
    assert ws.cell(row, 5).value == "已报备兼并（2031-12-01）；已报备破产清算（2031-12-01）"
    kinds = [c.value for c in load_workbook(xlsx)["名单变动记录"]["B"][2:]]
    assert kinds == ["书面报备重大变化", "书面报备重大变化"]


def test_only_title_holders_can_change(mini_campaign):
    refs = ministry_list(centres=1, platforms=0, not_selected=1)
    with session_scope() as s:
        open_publicity(s, SLUG, actor="m-con")
    with pytest.raises(Conflict), session_scope() as s:  # still under 公示: not yet a title holder
        revoke_title(s, SLUG, refs[0], reason="false_material", note="虚假", actor="m-con")
    with pytest.raises(Conflict), session_scope() as s:
        report_change(s, SLUG, refs[1], kind="merger", reason="兼并", actor="m-con")


def _mini_with(tmp_path, old: str, new: str) -> Path:
    """The mini campaign file with one snippet of its [title_rules] replaced."""
    text = MINI_CAMPAIGN.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "campaign.toml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def test_the_notices_catch_all_ground_revokes_too(mini_campaign):
    """[MIIT] 四(四): ……以及其他违法失信等行为的示范项目，取消其示范项目资格并予以通报."""
    revoked, _ = published(centres=1, platforms=1)
    move_clock("2032-03-01 10:00")
    with session_scope() as s:
        revoke_title(s, SLUG, revoked, reason="other_violations", note="被列入严重失信主体名单", actor="m-con")
        project = s.exec(select(Application).where(Application.reference == revoked)).one().project_name
    xlsx, _ = _final_files()
    (row,) = load_workbook(xlsx)["名单变动记录"].iter_rows(min_row=3, values_only=True)
    assert row[2] == project and row[4] == "其他违法失信等行为"
    assert row[5] == "其他违法失信等行为：被列入严重失信主体名单"


def test_the_2023_campaign_names_every_ground_of_the_notice():
    from core.campaign import load_campaign
    from tests.conftest import CAMPAIGN_2023

    rules = load_campaign(CAMPAIGN_2023).title_rules
    assert [r.zh for r in rules.revoke_grounds.values()] == [
        "监督检查不合格", "申报材料有重大虚假信息", "严重损害消费者合法权益和社会公共利益", "其他违法失信等行为"]
    assert [r.zh for r in rules.changes.values()] == ["兼并", "重组", "破产清算"]


def test_grounds_and_kinds_come_from_the_campaign_file(db, tmp_path):
    path = _mini_with(tmp_path, 'other_violations = { zh = "其他违法失信等行为", en = "other unlawful or dishonest conduct" }',
                      'data_leak = { zh = "泄露用户个人信息", en = "leaked users\' personal data" }')
    databases.install(path)
    revoked, kept = published(centres=1, platforms=1)
    with pytest.raises(ValidationFailed) as err, session_scope() as s:
        revoke_title(s, SLUG, kept, reason="other_violations", note="x", actor="m-con")  # not in this file
    assert "data_leak (泄露用户个人信息)" in err.value.errors[0].zh
    with session_scope() as s:
        event = revoke_title(s, SLUG, revoked, reason="data_leak", note="2032年通报", actor="m-con")
        assert event.reason == "泄露用户个人信息：2032年通报"


def test_a_campaign_without_title_rules_refuses_with_the_section_named(db, tmp_path):
    text = MINI_CAMPAIGN.read_text(encoding="utf-8")
    start, end = text.index("# After the final list"), text.index("[[demonstration_cities]]")
    path = tmp_path / "campaign.toml"
    path.write_text(text[:start] + text[end:], encoding="utf-8")
    databases.install(path)
    ref, _ = published(centres=1, platforms=1)
    with pytest.raises(ValidationFailed) as err, session_scope() as s:
        report_change(s, SLUG, ref, kind="merger", reason="兼并", actor="m-con")
    assert "[title_rules.changes]" in err.value.errors[0].zh and "[title_rules.changes]" in err.value.errors[0].en


@pytest.mark.parametrize(("old", "new", "where", "says"), [
    ('merger = { zh = "兼并", en = "merger" }', 'Merger-1 = { zh = "兼并", en = "merger" }',
     "title_rules.changes.Merger-1", "格式不符"),
    ('merger = { zh = "兼并", en = "merger" }', 'merger = { zh = "", en = "merger" }',
     "title_rules.changes.merger.zh", "至少需要 1 个字符"),
    ('merger = { zh = "兼并", en = "merger" }', 'false_material = { zh = "兼并", en = "merger" }',
     "title_rules", "false_material"),
    ('merger = { zh = "兼并", en = "merger" }', 'merger = { zh = "兼并", en = "merger", law = "x" }',
     "title_rules.changes.merger.law", "未知配置项"),
])
def test_bad_title_rules_are_refused_naming_the_key(tmp_path, old, new, where, says):
    from core.campaign import load_campaign
    from core.errors import ConfigError

    with pytest.raises(ConfigError) as err:
        load_campaign(_mini_with(tmp_path, old, new))
    found = [e for e in err.value.errors if e.field.startswith(where)]
    assert found and says in found[0].zh, err.value.errors
