"""`tuijian status` shows what the double track still lacks (issue: ministry end, 双轨)."""

import json

from typer.testing import CliRunner

from cli.main import app
from core.clock import parse_local
from core.db import session_scope
from tasks.chain import set_clock
from tests.support.factories import file_application


def test_status_lists_missing_paper_copies_and_online_registration(campaign_2023):
    with session_scope() as s:
        set_clock(s, campaign_2023, parse_local("2023-08-20 09:00"))
        app_ = file_application(s, campaign_2023, "420102", "experience_centre", region="420102")
    done = CliRunner().invoke(app, ["status", campaign_2023, "--json"])
    assert done.exit_code == 0, done.output
    missing = json.loads(done.output)["double_track_missing"]
    (line,) = missing["420102"]
    assert app_.reference in line and "0/2" in line and "未在网上申报系统登记" in line
    shown = CliRunner().invoke(app, ["status", campaign_2023, "--region", "4201"])
    assert "双轨缺失" in shown.output and app_.reference in shown.output
