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


def _gaps_and_statements(slug: str, codes: set[str]) -> tuple[dict, int]:
    """open_gaps for some units, with the number of SQL statements it ran."""
    from sqlalchemy import event

    from cli.status import open_gaps
    from core.db import get_engine
    from tasks.status import load_status

    seen: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        seen.append(statement)

    with session_scope() as s:
        status = load_status(s, slug)
        event.listen(get_engine(), "before_cursor_execute", count)
        try:
            gaps = open_gaps(s, status, codes)
        finally:
            event.remove(get_engine(), "before_cursor_execute", count)
    return gaps, len(seen)


def test_open_gaps_runs_the_same_queries_for_a_small_and_a_large_chain(campaign_2023):
    from tasks.status import load_status

    with session_scope() as s:
        set_clock(s, campaign_2023, parse_local("2023-08-20 09:00"))
        refs = {code: file_application(s, campaign_2023, code, "experience_centre", region=code).reference
                for code in ("420102", "420103", "440100", "440200")}
        every_unit = set(load_status(s, campaign_2023).units)
    small, few = _gaps_and_statements(campaign_2023, {"420102", "420103"})
    large, many = _gaps_and_statements(campaign_2023, every_unit)
    assert len(every_unit) > 60 and few == many
    assert {code: [g.reference for g in found] for code, found in small.items()} == {
        "420102": [refs["420102"]], "420103": [refs["420103"]]}
    assert {code: [g.reference for g in found] for code, found in large.items()} == {
        code: [ref] for code, ref in refs.items()}
    assert large["440100"][0].online_missing and not large["440100"][0].paper_missing  # 广州市 asks for no paper
