"""Each kind of message, queued in a transaction, delivered to a real SMTP server, read back."""

import asyncio
import io
from datetime import timedelta

import jinja2
import pytest
from docx import Document as Docx
from openpyxl import Workbook

from core.clock import real_now
from core.db import session_scope
from tasks.mail_context import Recipient
from tasks.mail_templates import render
from tasks.messages import (
    queue_approval_request,
    queue_escalation,
    queue_lockout,
    queue_result_notices,
    queue_stage_closed,
)
from tasks.outbox import deliver_pending
from tests.conftest import MINI_CAMPAIGN
from tests.support import databases
from tests.tasks.outbox_factories import document, entry_at, messages, person, stage_of


@pytest.fixture
def slug(db) -> str:
    return databases.install(MINI_CAMPAIGN)


def deliver() -> None:
    report = asyncio.run(deliver_pending())
    assert report.failed == 0 and report.deferred == 0


def text_of(received) -> str:
    return received.message.get_body(("plain",)).get_content()


def html_of(received) -> str:
    return received.message.get_body(("html",)).get_content()


def headers_of(received) -> bytes:
    return received.raw.split(b"\r\n\r\n", 1)[0]


def test_approval_request_carries_code_link_and_commands(slug, smtp_server):
    with session_scope() as s:
        stage, official = stage_of(s, slug, "110200"), person(s, "c2-off")
        proposal = "| 序号 | 项目单位 | 项目名称 |\n|---|---|---|\n| 1 | 示例科技有限公司 | 示例体验中心 |"
        assert len(queue_approval_request(s, stage, official, "482913", proposal, "run-1")) == 1
        assert queue_approval_request(s, stage, official, "482913", proposal, "run-1") == []
    deliver()
    [got] = smtp_server.messages
    assert got.rcpt_tos == ["c2-off@example.org"]
    assert "待审批" in got.message["Subject"] and "乙市" in got.message["Subject"]
    assert b"Subject: =?utf-8?" in headers_of(got)  # RFC 2047 on the wire
    assert got.message["To"].addresses[0].display_name == "乙市审批人"
    assert got.message["From"].addresses[0].display_name == "推荐系统 tuijian"
    text = text_of(got)
    assert "一次性审批码 / One-time approval code: 482913" in text
    assert "tuijian approve 110200 --official c2-off --code 482913" in text
    assert "--reject" in text and "示例科技有限公司" in text
    assert "http://127.0.0.1:4200/runs/flow-run/run-1" in text
    assert "报送甲省截止 / Due at 甲省: 2031-06-20 17:00" in text
    assert 'href="http://127.0.0.1:4200/runs/flow-run/run-1"' in html_of(got)


def test_a_new_approval_round_is_a_new_message(slug):
    with session_scope() as s:
        stage, official = stage_of(s, slug, "110200"), person(s, "c2-off")
        queue_approval_request(s, stage, official, "111111", "名单", None)
        stage.round += 1
        again = queue_approval_request(s, stage, official, "222222", "名单", None)
        assert len(again) == 1 and "222222" in again[0].body_text
        assert "第2轮" in again[0].subject
        assert "flow-run" not in again[0].body_text  # no run: only the CLI is offered


def _documents(s, stage, folder):
    book = Workbook()
    book.active.append(["序号", "项目单位", "项目名称", "项目联系人及电话", "备注"])
    xlsx = io.BytesIO()
    book.save(xlsx)
    letter = Docx()
    letter.add_paragraph("关于推荐2031年测试示范项目的函")
    docx = io.BytesIO()
    letter.save(docx)
    return [document(s, stage, "summary", folder / "乙市推荐项目汇总表.xlsx", xlsx.getvalue()),
            document(s, stage, "letter", folder / "乙市推荐函.docx", docx.getvalue())]


def test_stage_closed_goes_to_the_parent_contacts_with_both_documents(slug, smtp_server, tmp_path):
    with session_scope() as s:
        stage = stage_of(s, slug, "110200")
        entry_at(s, slug, "110000", from_unit="110200", project="乙市体验中心", status="received")
        docs = _documents(s, stage, tmp_path / "out")
        assert [m.recipient for m in queue_stage_closed(s, stage, docs)] == ["p-con@example.org"]
        assert queue_stage_closed(s, stage, docs) == []
        assert queue_stage_closed(s, stage_of(s, slug, "M"), []) == []  # nobody above the top
    deliver()
    [got] = smtp_server.messages
    assert "乙市体验中心" in text_of(got) and "甲省" in text_of(got)
    attached = {a.get_filename(): a.get_content() for a in got.message.iter_attachments()}
    on_disk = {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()}
    assert attached == on_disk  # byte-equal, Chinese names decoded
    assert b"filename*" in got.raw  # RFC 2231 names on the wire


def test_an_attachment_changed_after_queueing_is_not_sent(slug, smtp_server, tmp_path):
    with session_scope() as s:
        stage = stage_of(s, slug, "110200")
        queue_stage_closed(s, stage, _documents(s, stage, tmp_path / "out"))
    (tmp_path / "out" / "乙市推荐函.docx").write_bytes(b"tampered")
    report = asyncio.run(deliver_pending())
    assert (report.sent, report.failed) == (0, 1)
    assert smtp_server.messages == []
    with session_scope() as s:
        [row] = messages(s)
        assert row.status == "failed" and "附件内容已变化" in row.last_error


def test_result_notices_tell_each_applicant_outcome_and_reason(slug, smtp_server):
    outcomes = {
        "selected": ("a1@example.org", None, "综合排名第一"),
        "not_selected": ("a2@example.org", None, "超出推荐名额"),
        "ineligible": ("a3@example.org", "面积不足200平方米", None),
        "returned": ("a4@example.org", "缺少附3责任声明", None),
    }
    with session_scope() as s:
        for status, (email, review, decision) in outcomes.items():
            entry_at(s, slug, "110200", status=status, email=email, review_note=review,
                     decision_note=decision)
        entry_at(s, slug, "110200", status="received", email="waiting@example.org")
        entry_at(s, slug, "110200", status="selected", email=None)
        stage = stage_of(s, slug, "110200")
        assert len(queue_result_notices(s, stage)) == 4
        assert queue_result_notices(s, stage) == []
    deliver()
    got = {r.rcpt_tos[0]: r for r in smtp_server.messages}
    assert set(got) == {"a1@example.org", "a2@example.org", "a3@example.org", "a4@example.org"}
    assert "已获推荐" in got["a1@example.org"].message["Subject"]
    assert "已报送甲省" in text_of(got["a1@example.org"])
    assert "理由 / Reason: 综合排名第一" in text_of(got["a1@example.org"])
    assert "未获推荐" in text_of(got["a2@example.org"]) and "超出推荐名额" in text_of(got["a2@example.org"])
    assert "不符合申报条件" in text_of(got["a3@example.org"])
    returned = text_of(got["a4@example.org"])
    assert "退回修改" in returned and "缺少附3责任声明" in returned and "2031-06-10 17:00" in returned


def test_html_is_escaped_and_text_is_not(slug):
    with session_scope() as s:
        entry_at(s, slug, "110200", status="selected", project="<b>体验中心</b>", email="x@example.org")
        [m] = queue_result_notices(s, stage_of(s, slug, "110200"))
    assert "<b>体验中心</b>" in m.body_text
    assert "&lt;b&gt;体验中心&lt;/b&gt;" in m.body_html and "<b>体验中心" not in m.body_html


def test_escalation_reaches_the_officials_and_the_parent_contacts(slug, smtp_server):
    with session_scope() as s:
        stage = stage_of(s, slug, "110200")
        stage.state, stage.awaiting_since = "awaiting_approval", real_now() - timedelta(hours=50)
        assert sorted(m.recipient for m in queue_escalation(s, stage)) == [
            "c2-off@example.org", "p-con@example.org"]
        assert queue_escalation(s, stage) == []
    deliver()
    assert {r.rcpt_tos[0] for r in smtp_server.messages} == {"c2-off@example.org", "p-con@example.org"}
    assert all("审批超时" in r.message["Subject"] for r in smtp_server.messages)
    assert "本提醒不代表审批通过" in text_of(smtp_server.messages[0])


def test_lockout_goes_to_the_parent_or_at_the_top_to_the_unit_itself(slug, smtp_server):
    with session_scope() as s:
        city, top = stage_of(s, slug, "110200"), stage_of(s, slug, "M")
        city.failed_attempts, city.locked = 5, True
        [m] = queue_lockout(s, city)
        assert m.recipient == "p-con@example.org" and "连续 5 次" in m.body_text
        assert [m.recipient for m in queue_lockout(s, top)] == ["m-con@example.org"]
        assert queue_lockout(s, city) == []
    deliver()
    got = {r.rcpt_tos[0]: r for r in smtp_server.messages}
    assert set(got) == {"p-con@example.org", "m-con@example.org"} and len(smtp_server.messages) == 2
    assert got["p-con@example.org"].message["Subject"] == (
        "【环节已锁定 Stage locked】乙市审批码多次输入错误 / 110200 locked after wrong approval codes")
    text = text_of(got["p-con@example.org"])
    assert "乙市的推荐名单审批因审批码连续 5 次输入错误，本环节已锁定，暂停审批。" in text
    assert "报送甲省截止 / Due at 甲省: 2031-06-20 17:00" in text
    assert "本环节已锁定" in html_of(got["p-con@example.org"])
    assert "测试部审批码多次输入错误" in got["m-con@example.org"].message["Subject"]


def test_a_missing_template_variable_fails_the_render():
    with pytest.raises(jinja2.UndefinedError):
        render("lockout", recipient=Recipient("x", "x@example.org"))
