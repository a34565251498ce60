"""The campaign flow on the mini campaign, against the session's Prefect test server.

The demo's simulated experts and officials (tasks/simulate.py) answer every waiting stage
run through Prefect's API, reading their one-time codes from a real mail sink; officials of
`held` units do not answer until the test lets them.
"""

import asyncio
import time
from dataclasses import dataclass, field

import pytest
from sqlmodel import select, update

from core.clock import parse_local, to_utc
from core.db import session_scope
from core.mailsink import MailSink
from models import Campaign, Entry, Stage
from tasks.chain import set_clock
from tasks.simulate import Actors
from tests.support.factories import file_application
from tests.support.smtp import free_port
from tests.support.stage_runs import run_in_thread

pytestmark = pytest.mark.prefect
SLUG = "mini-test"
TIMEOUT_S = 300


@dataclass
class People(Actors):
    """The demo's experts and officials; the officials of `held` units wait."""

    held: set[str] = field(default_factory=set)

    def _approval(self, run):
        return None if run.unit in self.held else super()._approval(run)


@pytest.fixture
def people(mini_campaign, prefect_server, tmp_path, monkeypatch):
    """A mail sink on a free port (the settings point at it) and the people reading it."""
    port = free_port()
    for key, value in {"TUIJIAN_SMTP_HOST": "127.0.0.1", "TUIJIAN_SMTP_PORT": str(port),
                       "TUIJIAN_SMTP_SECURITY": "none"}.items():
        monkeypatch.setenv(key, value)
    from core.settings import get_settings

    get_settings.cache_clear()
    with MailSink(tmp_path / "mail", port):
        yield People(SLUG, tmp_path / "mail", greedy_unit=None)
    get_settings.cache_clear()


def _file(filings: dict[str, list[str]]) -> None:
    """File applications before the cities' deadline, as `{unit: [direction, ...]}`."""
    with session_scope() as s:
        set_clock(s, SLUG, parse_local("2031-06-01 09:00"))
        for unit, directions in filings.items():
            for direction in directions:
                file_application(s, SLUG, unit, direction, region=unit if unit.isdigit() else "110100")


def _stages() -> dict[str, Stage]:
    with session_scope() as s:
        return {st.unit_code: st for st in s.exec(select(Stage))}


def _drive(people: People, until, *boxes: dict, timeout: float = TIMEOUT_S) -> None:
    """Let the people answer every waiting run until `until()` is true (the runs in `boxes` going on)."""
    deadline = time.monotonic() + timeout
    while not until():
        assert time.monotonic() < deadline, {u: s.state for u, s in _stages().items()}
        assert not any(boxes), boxes  # a run ended before it should have
        asyncio.run(people.act_once())
        time.sleep(0.2)


def _finish(people: People, thread, box) -> dict:
    _drive(people, lambda: not thread.is_alive(), box)
    assert "error" not in box, box.get("error")
    return box["result"]


def _at(text: str):
    return to_utc(parse_local(text))


def _clock():
    with session_scope() as s:
        return to_utc(s.exec(select(Campaign.clock).where(Campaign.slug == SLUG)).one())


def _run_names(stages: dict[str, Stage]) -> dict[str, str]:
    from uuid import UUID

    from prefect.client.orchestration import get_client

    async def read() -> dict[str, str]:
        async with get_client() as client:
            return {u: (await client.read_flow_run(UUID(s.flow_run_id))).name for u, s in stages.items()}

    return asyncio.run(read())


def test_the_chain_runs_bottom_up_on_the_simulated_clock(people):
    from flows.campaign import campaign

    _file({"110100": ["experience_centre", "experience_centre"],
           "110200": ["experience_centre", "experience_centre", "platform"]})
    people.held = {"110100", "110200"}
    thread, box = run_in_thread(campaign, SLUG, True, 0.2, 1)  # advance_clock, poll, max_parallel=1
    waiting = ("awaiting_approval", "awaiting_approval")
    _drive(people, lambda: tuple(_stages()[u].state for u in ("110100", "110200")) == waiting, box)
    # two stages wait for their officials at once although only one may work at a time
    people.held.clear()
    result = _finish(people, thread, box)
    assert result == {"failed": {}, "missing": {}}
    stages = _stages()
    assert {u: s.state for u, s in stages.items()} == dict.fromkeys(stages, "closed")
    started = {u: to_utc(s.started_at) for u, s in stages.items()}
    # the clock jumped to the cities' deadline (a minute past it) and the cities started there
    assert started["110100"] == started["110200"] == _at("2031-06-10 17:01")
    # 甲省 takes no filings: it started as soon as both cities reported, ten days early
    assert started["110000"] == _at("2031-06-10 17:01")
    # then the clock jumped to the central enterprise's deadline; 测试部 started once it reported
    assert started["CE01"] == started["M"] == _at("2031-06-20 17:01") == _clock()
    assert _run_names(stages) == {"110100": "甲市 · 地市级", "110200": "乙市 · 地市级", "110000": "甲省 · 省级",
                                  "CE01": "测试集团有限公司 · 中央企业", "M": "测试部 · 部级"}
    with session_scope() as s:
        senders = {e.from_unit_code for e in s.exec(select(Entry).where(Entry.unit_code == "110000"))}
    assert senders == {"110100", "110200"}


def test_a_child_waiting_for_approval_does_not_hold_its_parent(people):
    from flows.campaign import campaign
    from flows.stage import stage

    _file({"110100": ["experience_centre"], "110200": ["experience_centre", "experience_centre"]})
    with session_scope() as s:
        set_clock(s, SLUG, parse_local("2031-06-10 18:00"))
    people.held = {"110100", "110200"}
    # a coordinator starts 甲市 by hand before the campaign flow runs
    by_hand, by_hand_box = run_in_thread(stage, SLUG, "110100")
    _drive(people, lambda: _stages()["110100"].state == "awaiting_approval", by_hand_box)
    coordinators_run = _stages()["110100"].flow_run_id
    thread, box = run_in_thread(campaign, SLUG, False, 0.2, 4)
    _drive(people, lambda: _stages()["110200"].state == "awaiting_approval", box, by_hand_box)
    assert thread.is_alive() and _stages()["110100"].flow_run_id == coordinators_run
    people.held = {"110200"}  # 乙市's official never answers
    _drive(people, lambda: not by_hand.is_alive(), box)
    assert "error" not in by_hand_box, by_hand_box.get("error")
    with session_scope() as s:
        set_clock(s, SLUG, parse_local("2031-06-20 18:00"))  # 甲省's deadline passes
    result = _finish(people, thread, box)
    assert result == {"failed": {}, "missing": {"110000": ["110200"]}}
    stages = _stages()
    assert stages["110100"].flow_run_id == coordinators_run  # the loop never started 甲市 again
    assert {u for u, s in stages.items() if s.state == "closed"} == {"110100", "110000", "CE01", "M"}
    with session_scope() as s:
        senders = {e.from_unit_code for e in s.exec(select(Entry).where(Entry.unit_code == "110000"))}
    assert senders == {"110100"}


def test_the_loop_waits_for_a_stage_a_coordinator_started(people):
    from flows.campaign import campaign
    from flows.stage import stage

    _file({"M": ["experience_centre", "platform"]})  # what reached 测试部, every other stage closed
    with session_scope() as s:
        set_clock(s, SLUG, parse_local("2031-07-01 09:00"))  # every deadline has passed
        s.exec(update(Stage).where(Stage.unit_code != "M").values(state="closed"))
    people.held = {"M"}
    by_hand, by_hand_box = run_in_thread(stage, SLUG, "M")  # the ministry's coordinator starts it
    _drive(people, lambda: _stages()["M"].state == "awaiting_approval", by_hand_box)
    thread, box = run_in_thread(campaign, SLUG, False, 0.1, 4)
    time.sleep(3)  # thirty rounds of the loop: nothing is open and no deadline is ahead
    assert thread.is_alive(), box
    people.held.clear()
    result = _finish(people, thread, box)
    assert result == {"failed": {}, "missing": {}}
    assert _stages()["M"].state == "closed"
    by_hand.join(60)  # it still publishes its artifacts and sends its mail
    assert by_hand_box == {"result": "closed"}
