"""The ScoresInput form: built from the rubric, described in Markdown, applied, and resumed through Prefect."""

import uuid
from decimal import Decimal

import pytest
from pydantic import ValidationError
from sqlmodel import select

from core.campaign import Rubric
from core.db import session_scope
from core.errors import ConfigError, Conflict, NotFound
from models import Application, ConflictOfInterest, Score
from tasks.score_input import (
    apply_scores_input,
    resume_stage_run,
    scores_description,
    scores_input_for_stage,
    scores_input_model,
)
from tests.tasks import scoring_factories as f

RUBRIC = Rubric(criteria=[{"key": "demo", "name": "示范性", "weight": 1},
                          {"key": "ux", "name": "体验", "weight": 1, "max_score": 10}])


def test_form_is_built_from_the_rubric_with_chinese_titles():
    form = scores_input_model(RUBRIC).with_initial_data(description="说明")
    schema = form.model_json_schema()
    assert schema["properties"]["expert"]["title"] == "专家编号 / expert id"
    assert schema["properties"]["sheets_imported"]["default"] is False
    row = next(iter(schema["$defs"].values()))
    assert row["properties"]["demo"]["title"] == "示范性（满分100）"
    assert row["properties"]["ux"]["anyOf"][0] == {"type": "number", "minimum": 0, "maximum": 10.0}
    assert row["required"] == ["reference"] and row["additionalProperties"] is False
    assert form._description == "说明"
    value = form.model_validate({"expert": "e1", "rows": [{"reference": "R1", "demo": 85.5, "ux": "7"}]})
    assert value.rows[0].model_dump()["ux"] == Decimal(7)
    with pytest.raises(ValidationError):
        form.model_validate({"rows": [{"reference": "R1", "ux": 11}]})
    with pytest.raises(ValidationError):
        form.model_validate({"rows": [{"reference": "R1", "bogus": 1}]})
    assert scores_input_model(RUBRIC) is scores_input_model(RUBRIC.model_copy())


def test_criterion_keys_may_not_clash_with_row_fields():
    clash = Rubric(criteria=[{"key": "note", "name": "备注分", "weight": 1}])
    with pytest.raises(ConfigError) as info:
        scores_input_model(clash)
    assert info.value.errors[0].field == "rubric.criteria[note].key"


def test_description_lists_entries_escaped(db, tmp_path):
    ids = f.province_stage(tmp_path)
    with session_scope() as s:
        app = s.exec(select(Application).where(Application.reference == ids["ref"]["B"])).one()
        app.enterprise_name, app.project_name = "坏|公司*<script>", "项目_[x](y)"
        s.add(app)
    with session_scope() as s:
        text = scores_description(s, ids["stage"])
    assert r"坏\|公司\*\<script\>" in text and r"项目\_\[x\](y)" in text
    assert "<script>" not in text
    for key in ("A", "B", "C"):
        assert ids["ref"][key] in text
    assert ids["ref"]["D"] not in text and ids["ref"]["E"] not in text
    assert "| 示范性 | demo | 0\\.5 |" in text or "| 示范性 | demo | 0.5 |" in text
    assert "p-e1, p-e2" in text  # both still owe B


def test_apply_records_scores_and_declared_conflicts(db, tmp_path):
    ids = f.province_stage(tmp_path)
    model = scores_input_for_stage(ids["stage"])
    value = model(expert="p-e2", rows=[
        {"reference": ids["ref"]["B"], "demo": 80, "innovation": "90.5"},
        {"reference": ids["ref"]["C"], "conflict": True, "note": "亲属任职"},
    ])
    with session_scope() as s:
        assert apply_scores_input(s, ids["stage"], value.model_dump(mode="json")) == []
    with session_scope() as s:
        got = {(x.criterion, x.value, x.source) for x in s.exec(select(Score))}
        assert got == {("demo", Decimal(80), "input"), ("innovation", Decimal("90.5"), "input")}
        coi = s.exec(select(ConflictOfInterest).where(ConflictOfInterest.entry_id == ids["C"])).one()
        assert coi.expert_key == "p-e2" and "亲属任职" in coi.reason
        assert apply_scores_input(s, ids["stage"], {"sheets_imported": True}) == []


def test_apply_refuses_bad_input_field_by_field(db, tmp_path):
    ids = f.province_stage(tmp_path)
    with session_scope() as s:
        errors = apply_scores_input(s, ids["stage"], {"expert": "p-e1", "rows": [
            {"reference": ids["ref"]["B"], "demo": 101, "innovation": 1}]})
        assert [e.field for e in errors] == ["rows.0.demo"] and errors[0].file == "input"
        errors = apply_scores_input(s, ids["stage"], {"expert": "p-e1", "rows": [
            {"reference": ids["ref"]["B"], "demo": 1}, {"reference": "NOPE", "demo": 1, "innovation": 1}]})
        assert [(e.row, e.field) for e in errors] == [(1, "innovation"), (2, "reference")]
        assert s.exec(select(Score)).all() == []


@pytest.mark.prefect
def test_resume_reports_a_rejection_then_the_flow_gets_the_scores(prefect_server, sqlite_db, tmp_path):
    from tests.tasks.paused_flow import paused_scores_flow

    ids = f.province_stage(tmp_path)
    with paused_scores_flow(ids["stage"]) as run:
        with pytest.raises(Conflict) as info:
            resume_stage_run(run.id, {"rows": "not a list"})
        assert "not a list" in info.value.en and "流程未恢复" in info.value.zh
        resume_stage_run(run.id, {"expert": "p-e1", "rows": [
            {"reference": ids["ref"]["A"], "demo": 70, "innovation": 80}]})
        value = run.join()
    assert value["sheets_imported"] is False
    with session_scope() as s:
        assert apply_scores_input(s, ids["stage"], value) == []
        assert len(s.exec(select(Score)).all()) == 2
    with pytest.raises(Conflict):
        resume_stage_run(run.id, {"sheets_imported": True})  # no longer paused
    with pytest.raises(NotFound):
        resume_stage_run(str(uuid.uuid4()), {"sheets_imported": True})
