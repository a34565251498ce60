"""The intake flow on the session's Prefect test server: real files, a real SQLite database,
one task run per file, the references of what was filed and the field errors of what was not."""

import asyncio

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from sqlmodel import select

from core.db import session_scope
from flows.intake import IntakeSummary, intake, summary_markdown
from models import Application, Entry
from tests.tasks.intake_factories import attach, good_record, write_json

pytestmark = pytest.mark.prefect


async def run_and_inspect(paths: list[str]):
    """Run the flow; return its summary, its task runs' names and its artifact's Markdown."""
    state = await intake(paths, campaign="mini-test", return_state=True)
    summary = await state.result()
    run_id = state.state_details.flow_run_id
    async with get_client() as client:
        tasks = await client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id])))
        artifact = await client.read_latest_artifacts()
    latest = next(a for a in artifact if a.key == "intake-summary")
    return summary, sorted(t.name for t in tasks), latest.data


def test_intake_files_each_file_in_its_own_task_and_reports_both_outcomes(mini_campaign, prefect_server, tmp_path):
    good = write_json(tmp_path / "good.json", [attach(good_record("experience_centre", n=1), tmp_path, 1),
                                               attach(good_record("platform", n=2), tmp_path, 2)])
    bad_record = attach(good_record("experience_centre", n=3), tmp_path, 3) | {"uscc": "123", "unit": "NOPE"}
    bad = write_json(tmp_path / "bad.json", [bad_record])

    summary, task_names, markdown = asyncio.run(run_and_inspect([str(good), str(bad)]))

    assert isinstance(summary, IntakeSummary)
    assert [f.path for f in summary.files] == [str(good), str(bad)]
    assert len(summary.files[0].filed) == 2 and summary.files[0].errors == []
    assert summary.files[1].filed == [] and summary.refused == [str(bad)]
    fields = {e.field for e in summary.files[1].errors}
    assert {"uscc", "unit"} <= fields, fields
    assert all(e.zh and e.en and e.file == str(bad) for e in summary.files[1].errors)
    assert len(task_names) == 2 and all(n.startswith("file_intake") for n in task_names)
    with session_scope() as session:
        filed = session.exec(select(Application.reference).order_by(Application.reference)).all()
        at_unit = session.exec(select(Entry.unit_code)).all()
    assert filed == sorted(summary.filed)
    assert at_unit == ["110100", "110100"]
    for ref in summary.filed:
        assert ref in markdown
    assert "bad.json" in markdown and "[uscc]" in markdown


def test_summary_markdown_keeps_cells_apart():
    from flows.intake import FileOutcome, Problem

    summary = IntakeSummary(files=[FileOutcome(path="/x/a|b.json", errors=[
        Problem(field="name", zh="含有 | 竖线", en="has a | bar")])])
    row = summary_markdown(summary).splitlines()[2]
    assert row.count(" | ") == 2  # three cells: the pipes inside them are escaped
    assert "a\\|b.json" in row and "含有 \\| 竖线" in row
