"""退回修改: a return queues its notices in the same transaction, delivered to a real SMTP server."""

import asyncio

import pytest

from core.clock import real_now
from core.db import session_scope
from core.errors import Conflict
from models import Entry
from tasks.messages import queue_return_notices
from tasks.outbox import deliver_pending
from tasks.review import return_entry
from tests.conftest import MINI_CAMPAIGN
from tests.support import databases
from tests.tasks.outbox_factories import entry_at, messages, stage_of


@pytest.fixture
def slug(db) -> str:
    return databases.install(MINI_CAMPAIGN)


def _forwarded(slug: str, email: str | None = "apply@example.org") -> tuple[int, int]:
    """A project 乙市 selected and sent to 甲省 (乙市's stage closed); return both entry ids."""
    with session_scope() as s:
        below, app = entry_at(s, slug, "110200", status="selected", email=email,
                              project="示例体验中心", enterprise="示例科技有限公司（虚构）")
        up = Entry(campaign_id=below.campaign_id, application_id=app.id, unit_code="110000",
                   direction=below.direction, from_unit_code="110200", source_entry_id=below.id,
                   arrived_at=real_now(), status="eligible")
        s.add(up)
        closed = stage_of(s, slug, "110200")
        closed.state = "closed"
        s.add(closed)
        s.flush()
        return below.id, up.id


def _delivered(server) -> dict:
    report = asyncio.run(deliver_pending())
    assert (report.failed, report.deferred) == (0, 0)
    return {r.rcpt_tos[0]: r.message for r in server.messages}


def _text(message) -> str:
    return message.get_body(("plain",)).get_content()


def test_a_return_to_the_sender_tells_the_applicant_and_the_lower_unit(slug, smtp_server):
    _below, up = _forwarded(slug)
    with session_scope() as s:
        return_entry(s, up, to="sender", reason="材料不全，请更换项目", actor="p-off")
        keys = [m.key for m in messages(s)]
    assert len(keys) == 2 and all(":return:a" in k for k in keys)
    got = _delivered(smtp_server)
    assert set(got) == {"apply@example.org", "c2-con@example.org"}
    applicant = got["apply@example.org"]
    assert applicant["Subject"] == "【退回修改 Returned for revision】示例体验中心"
    body = _text(applicant)
    assert "已被甲省退回乙市" in body and "请与乙市联系" in body and "退回理由 / Reason: 材料不全，请更换项目" in body
    lower = got["c2-con@example.org"]
    assert lower["Subject"] == "【项目被退回 Returned】甲省退回乙市报送的项目：示例体验中心"
    body = _text(lower)
    assert "材料不全，请更换项目" in body and "推荐名额已释放" in body and "乙市环节已重新进入审核" in body
    assert "2031-06-20 17:00（北京时间）前改为推荐其他项目" in body  # 甲省's deadline
    assert "材料不全" in lower.get_body(("html",)).get_content()


def test_a_return_to_the_applicant_asks_for_a_resubmission_by_the_deadline(slug, smtp_server):
    with session_scope() as s:
        entry, _app = entry_at(s, slug, "110200", status="eligible", email="self@example.org")
        entry_id = entry.id
    with session_scope() as s:
        return_entry(s, entry_id, to="applicant", reason="缺少附3责任声明", actor="c2-off")
        assert stage_of(s, slug, "110200").state == "open"  # nothing reopened, no unit told
    got = _delivered(smtp_server)
    assert set(got) == {"self@example.org"}
    body = _text(got["self@example.org"])
    assert "已被乙市退回修改" in body and "2031-06-10 17:00" in body and "缺少附3责任声明" in body


def test_the_notices_are_keyed_by_the_return_and_roll_back_with_it(slug):
    _below, up = _forwarded(slug)
    with session_scope() as s:
        entry = s.get(Entry, up)
        upper, lower = stage_of(s, slug, "110000"), stage_of(s, slug, "110200")
        first = queue_return_notices(s, upper, entry, reason_text="x", return_id=7, sender=lower)
        assert [m.kind for m in first] == ["return_notice", "return_to_sender"]
        assert queue_return_notices(s, upper, entry, reason_text="x", return_id=7, sender=lower) == []
        assert len(queue_return_notices(s, upper, entry, reason_text="y", return_id=8)) == 1
    with pytest.raises(Conflict), session_scope() as s:  # a refused return queues nothing
        stage = stage_of(s, slug, "110000")
        stage.state = "approved"
        s.add(stage)
        s.flush()
        before = len(messages(s))
        try:
            return_entry(s, up, to="sender", reason="太迟了", actor="p-off")
        finally:
            assert len(messages(s)) == before
