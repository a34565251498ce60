"""The reminders flow: the right units and applicants reminded on the right days, once;
holidays honoured; overdue approvals escalated once and never approved."""

import asyncio
import tomllib
from datetime import date, timedelta

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from cli.main import app
from core.campaign import parse_campaign
from core.clock import parse_local
from core.db import session_scope
from models import AuditLog, Message
from tasks.campaigns import install_campaign
from tasks.outbox import deliver_pending
from tasks.reminders import remind_campaign
from tests.conftest import MINI_CAMPAIGN
from tests.support import databases
from tests.tasks.outbox_factories import campaign_row, entry_at, messages, stage_of


def set_clock(slug: str, when: str) -> None:
    with session_scope() as s:
        campaign = campaign_row(s, slug)
        campaign.clock = parse_local(when)
        s.add(campaign)


def run_days(slug: str, first: date, last: date, before_day=None) -> dict[str, list[tuple[str, str]]]:
    """Run the reminders each morning at 09:30 (twice); return what each day queued."""
    queued, seen, day = {}, set(), first
    while day <= last:
        if before_day:
            before_day(day)
        set_clock(slug, f"{day} 09:30")
        remind_campaign.fn(slug)
        remind_campaign.fn(slug)  # a second run the same day queues nothing
        with session_scope() as s:
            new = [m for m in messages(s, kind="reminder") if m.key not in seen]
        seen |= {m.key for m in new}
        if new:
            queued[day.isoformat()] = sorted((m.recipient, m.key.rsplit(":", 1)[1]) for m in new)
        day += timedelta(days=1)
    return queued


def test_units_and_applicants_are_reminded_on_the_right_working_days_once(db, smtp_server):
    slug = databases.install(MINI_CAMPAIGN)  # offsets 2 and 1 working days, 2031 (Mon–Fri)
    with session_scope() as s:
        entry_at(s, slug, "110200", status="returned", email="back@example.org",
                 review_note="缺少附3责任声明")

    def city_a_forwards(day: date) -> None:
        if day == date(2031, 6, 19):
            with session_scope() as s:
                entry_at(s, slug, "110000", from_unit="110100", email=None)

    got = run_days(slug, date(2031, 6, 1), date(2031, 6, 30), city_a_forwards)
    assert got == {
        "2031-06-06": [("back@example.org", "d2")],  # Fri: 2 working days before Tue 06-10
        "2031-06-09": [("back@example.org", "d1")],
        "2031-06-18": [("c1-con@example.org", "d2"), ("c2-con@example.org", "d2")],
        "2031-06-19": [("c2-con@example.org", "d1")],  # 甲市 has forwarded
        "2031-06-26": [("ce-con@example.org", "d2"), ("p-con@example.org", "d2")],
        "2031-06-27": [("ce-con@example.org", "d1"), ("p-con@example.org", "d1")],  # Fri before Mon 06-30
    }
    with session_scope() as s:
        [reminder] = messages(s, key=f"stage:{stage_of(s, slug, '110200').id}:reminder:c2-con:d1")
        [resubmit] = [m for m in messages(s, recipient="back@example.org") if m.key.endswith(":d1")]
    # what reaches the mail server, decoded: one message per reminder, never a second copy
    report = asyncio.run(deliver_pending())
    assert (report.sent, report.failed, report.deferred) == (9, 0, 0)
    got = {r.message["Message-ID"]: r for r in smtp_server.messages}
    assert len(got) == len(smtp_server.messages) == 9
    unit = got[reminder.message_id]
    assert unit.rcpt_tos == ["c2-con@example.org"]
    assert unit.message["Subject"] == "【截止提醒 Deadline reminder】距甲省截止还有1个工作日 / 1 working day left"
    body = unit.message.get_body(("plain",)).get_content()
    assert "乙市尚未向甲省报送推荐材料。报送截止时间为 2031-06-20 17:00（北京时间）" in body
    applicant = got[resubmit.message_id]
    assert applicant.rcpt_tos == ["back@example.org"]
    assert applicant.message["Subject"].startswith("【修改提醒 Resubmission reminder】示例体验中心：距截止还有1个工作日")
    body = applicant.message.get_body(("plain",)).get_content()
    assert "已被乙市退回修改，尚未重新提交" in body and "2031-06-10 17:00" in body
    assert "退回理由 / Reason: 缺少附3责任声明" in body


def _install_2023(working_days: bool) -> str:
    raw = tomllib.loads(MINI_CAMPAIGN.read_text(encoding="utf-8"))
    raw |= {"slug": "mini-2023", "reminders": {"offsets": [3, 1], "working_days": working_days}}
    deadlines = {"M": "2023-10-20T17:00:00", "110000": "2023-10-09T17:00:00",
                 "CE01": "2023-10-09T17:00:00", "110100": "2023-09-25T17:00:00",
                 "110200": "2023-09-25T17:00:00"}
    for unit in raw["units"]:
        unit["deadline"] = deadlines[unit["code"]]
    with session_scope() as s:
        return install_campaign(s, parse_campaign(raw)).slug


@pytest.mark.parametrize("working_days, expected", [
    (True, {"2023-09-28": "d3", "2023-10-08": "d1", "2023-10-17": "d3", "2023-10-19": "d1"}),
    (False, {"2023-10-06": "d3", "2023-10-08": "d1", "2023-10-17": "d3", "2023-10-19": "d1"}),
])
def test_the_golden_week_is_skipped_when_counting_working_days(sqlite_db, working_days, expected):
    slug = _install_2023(working_days)
    got = run_days(slug, date(2023, 9, 26), date(2023, 10, 20))
    assert {day: {offset for _, offset in sent} for day, sent in got.items()} == {
        day: {offset} for day, offset in expected.items()}
    assert {r for r, _ in got["2023-10-08"]} == {"c1-con@example.org", "c2-con@example.org"}
    assert {r for r, _ in got["2023-10-19"]} == {"p-con@example.org", "ce-con@example.org"}


def test_overdue_approvals_are_escalated_once_and_never_approved(db):
    slug = databases.install(MINI_CAMPAIGN)
    set_clock(slug, "2031-06-12 09:00")
    with session_scope() as s:
        for unit, hours in (("110200", 49), ("110100", 47)):
            stage = stage_of(s, slug, unit)
            stage.state = "awaiting_approval"
            stage.awaiting_since = parse_local("2031-06-12 09:00") - timedelta(hours=hours)
            s.add(stage)
    report = remind_campaign.fn(slug)
    assert report.escalations == ["110200"]
    assert remind_campaign.fn(slug).escalations == []
    with session_scope() as s:
        stage = stage_of(s, slug, "110200")
        assert (stage.state, stage.approved_by, stage.approved_at) == ("awaiting_approval", None, None)
        assert stage.escalated_at is not None
        assert stage_of(s, slug, "110100").escalated_at is None
        sent = sorted(m.recipient for m in messages(s, kind="escalation"))
        assert sent == ["c2-off@example.org", "p-con@example.org"]
        audit = s.exec(select(AuditLog).where(AuditLog.action == "approval.escalate")).all()
        assert [a.object_id for a in audit] == [str(stage.id)]


@pytest.mark.prefect
def test_the_flow_and_tuijian_remind_queue_once(sqlite_db, prefect_server):
    from flows.reminders import reminders

    slug = databases.install(MINI_CAMPAIGN)
    [report] = reminders(campaign=slug, at="2031-06-18 09:30")
    assert sorted(line.split(" · ")[0] for line in report.reminders) == [
        "c1-con@example.org", "c2-con@example.org"]
    assert reminders(campaign=slug, at="2031-06-18 10:30")[0].reminders == []
    result = CliRunner().invoke(app, ["remind", "--campaign", slug, "--at", "2031-06-19 09:30"])
    assert result.exit_code == 0, result.output
    assert "2 条提醒 reminders" in result.output and "c2-con@example.org" in result.output
    with session_scope() as s:
        assert len(s.exec(select(Message).where(Message.kind == "reminder")).all()) == 4
