"""Scores through the Prefect UI: the `ScoresInput` form a scoring flow waits for, and resuming it.

The criteria differ per campaign, so the form is built from the rubric:
`pause_flow_run(wait_for_input=scores_input_model(rubric).with_initial_data(description=md))`.
Titles and defaults live in the class (`with_initial_data` would drop a field's title);
only `description=` is passed there.
"""

from decimal import Decimal
from functools import lru_cache
from typing import Annotated, Any
from uuid import UUID

from prefect.input import RunInput
from pydantic import BaseModel, ConfigDict, Field, ValidationError, WithJsonSchema, create_model
from sqlmodel import Session

from core.campaign import Rubric
from core.errors import ConfigError, Conflict, FieldError, NotFound, TuijianError
from tasks.score_record import NOTE_MAX, ScoreRow, record_scores
from tasks.score_stage import (
    assignment_of,
    conflict_map,
    missing_scores,
    scorable_entries,
    stage_context,
    unit_experts,
)

ROW_FIELDS = ("reference", "conflict", "note")
SHEETS_IMPORTED = {"expert": "", "rows": [], "sheets_imported": True}


def plain(number: Decimal) -> str:
    """Show a Decimal without exponent or trailing zeros (100, 7.5)."""
    return f"{number.normalize():f}"


def scores_input_model(rubric: Rubric) -> type[RunInput]:
    """Return the ScoresInput RunInput class for a rubric (cached per rubric)."""
    return _model(rubric.model_dump_json())


def scores_input_for_stage(stage_id: int) -> type[RunInput]:
    """Return the ScoresInput class for a stage's campaign rubric (opens its own session)."""
    from core.db import session_scope

    with session_scope() as session:
        return scores_input_model(stage_context(session, stage_id).config.rubric)


@lru_cache(maxsize=32)
def _model(rubric_json: str) -> type[RunInput]:
    """Build the row model and the ScoresInput class for a rubric given as JSON."""
    rubric = Rubric.model_validate_json(rubric_json)
    clash = [c.key for c in rubric.criteria if c.key in ROW_FIELDS or c.key.startswith("_")]
    if clash:
        raise ConfigError([FieldError(f"rubric.criteria[{k}].key", f"指标键 {k} 与表单字段冲突",
                                      f"criterion key {k} clashes with a form field") for k in clash])
    scores: dict[str, Any] = {c.key: _score_field(c.name, c.max_score) for c in rubric.criteria}
    row = create_model(
        "ScoreRowInput", __config__=ConfigDict(extra="forbid", title="评分行 / score row"),
        reference=(str, Field(min_length=1, max_length=32, title="申报编号 / reference")),
        **scores,
        conflict=(bool, Field(False, title="申明回避（不打分） / conflict of interest")),
        note=(str, Field("", max_length=NOTE_MAX, title="备注 / note")),
    )
    return create_model(
        "ScoresInput", __base__=RunInput,
        expert=(str, Field("", max_length=64, title="专家编号 / expert id")),
        rows=(list[row], Field(default_factory=list, title="评分 / scores")),
        sheets_imported=(bool, Field(False, title="已通过评分表导入 / scores came in through sheets")),
    )


def _score_field(name: str, max_score: Decimal) -> tuple[Any, Any]:
    """A Decimal score field that the UI shows as a number input limited to 0..max."""
    schema = {"anyOf": [{"type": "number", "minimum": 0, "maximum": float(max_score)},
                        {"type": "null"}]}
    kind = Annotated[Decimal | None, WithJsonSchema(schema)]
    return kind, Field(None, ge=0, le=max_score, title=f"{name}（满分{plain(max_score)}）")


def md(text: object) -> str:
    """Escape text for a Markdown table cell."""
    out = " ".join(str(text or "").split())
    for ch in "\\`*_[]<>|~&":
        out = out.replace(ch, "\\" + ch)
    return out


def scores_description(session: Session, stage_id: int) -> str:
    """Return the Markdown shown above the form: rubric, entries to score, who is still owed."""
    ctx = stage_context(session, stage_id)
    missing: dict[int, list[str]] = {}
    for entry_id, key in missing_scores(session, stage_id):
        missing.setdefault(entry_id, []).append(key)
    assignment, conflicts = assignment_of(session, ctx), conflict_map(session, ctx)
    lines = [f"### 专家评分 / Expert scoring — {md(ctx.unit.name)}", "",
             "每位专家填写本人编号，按评分细则为下列项目逐项打分；与申报单位存在利益关联的，"
             "勾选“申明回避”且不打分。已通过评分表导入的，勾选“已通过评分表导入”。", "",
             "Each expert enters their id and scores every project below on each criterion; "
             "with a conflict of interest, tick the conflict box and give no score. If the scores "
             "came in through score sheets, tick “scores came in through sheets”.", "",
             "| 指标 / criterion | 键 / key | 权重 / weight | 满分 / max |", "|---|---|---|---|"]
    lines += [f"| {md(c.name)} | {md(c.key)} | {plain(c.weight)} | {plain(c.max_score)} |"
              for c in ctx.config.rubric.criteria]
    lines += ["", "| 申报编号 / reference | 申报单位 / applicant | 项目名称 / project | 方向 / direction"
              " | 待评专家 / still to score | 回避 / abstaining |", "|---|---|---|---|---|---|"]
    for entry, app in scorable_entries(session, ctx.stage):
        direction = ctx.config.directions.get(entry.direction)
        abstain = sorted(k for (e, k) in conflicts if e == entry.id)
        lines.append(f"| {md(app.reference)} | {md(app.enterprise_name)} | {md(app.project_name)} | "
                     f"{md(direction.name if direction else entry.direction)} | "
                     f"{md(', '.join(missing.get(entry.id, [])) or '—')} | {md(', '.join(abstain) or '—')} |")
    experts = ", ".join(f"{k}（{e.name}）" for k, e in unit_experts(ctx).items())
    lines += ["", f"专家 / experts: {md(experts or '—')}",
              f"待评 {sum(len(v) for v in missing.values())} 份 / {len(assignment)} 个项目"]
    return "\n".join(lines)


def apply_scores_input(session: Session, stage_id: int, value: BaseModel | dict) -> list[FieldError]:
    """Record a ScoresInput's rows (source "input"); return every problem (nothing written if any)."""
    ctx = stage_context(session, stage_id)
    model = scores_input_model(ctx.config.rubric)
    data = value.model_dump() if isinstance(value, BaseModel) else dict(value)
    try:
        parsed = model.model_validate(data).model_dump()
    except ValidationError as exc:
        return [FieldError(".".join(str(p) for p in err["loc"]), f"输入无效：{err['msg']}",
                           f"invalid input: {err['msg']}", file="input") for err in exc.errors()]
    keys = [c.key for c in ctx.config.rubric.criteria]
    rows = [ScoreRow(reference=r["reference"], expert=parsed["expert"],
                     scores={k: r[k] for k in keys}, conflict=r["conflict"], note=r["note"],
                     row=i, file="input") for i, r in enumerate(parsed["rows"], start=1)]
    if not rows:
        return []
    return record_scores(session, stage_id, rows, source="input", actor=f"expert:{parsed['expert']}")


def resume_stage_run(flow_run_id: str, run_input: dict) -> None:
    """Resume a paused stage flow run with `run_input`; raise a TuijianError with the server's reason."""
    import httpx
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.responses import SetStateStatus
    from prefect.exceptions import ObjectNotFound

    try:
        with get_client(sync_client=True) as client:
            client.read_flow_run(UUID(str(flow_run_id)))
            result = client.resume_flow_run(UUID(str(flow_run_id)), run_input=run_input)
    except (ObjectNotFound, ValueError) as exc:
        raise NotFound(f"Prefect 中没有流程运行 {flow_run_id}", f"no flow run {flow_run_id}") from exc
    except httpx.HTTPError as exc:
        raise TuijianError(f"无法联系 Prefect：{exc}", f"cannot reach Prefect: {exc}") from exc
    if result.status != SetStateStatus.ACCEPT:
        reason = getattr(result.details, "reason", None) or result.status.value
        raise Conflict(f"流程未恢复：{reason}", f"the flow run was not resumed: {reason}",
                       flow_run_id=str(flow_run_id), status=result.status.value)
