"""The stage's steps as Prefect tasks: one task run per step, one transaction per task.

Each wrapper runs its plain function in a worker thread (the database driver blocks) with
its own session, and is safe to re-run: it looks at the stage's stored state first.
"""

from dataclasses import asdict, dataclass

import anyio
from prefect import task
from sqlalchemy import update

from core.db import session_scope
from core.errors import Conflict
from models import Stage
from tasks.stages import StageContext, load_stage, load_stage_by_id, move, stage_entries


async def in_transaction(fn, *args, **kwargs):
    """Run fn(session, *args) in a worker thread inside one committed transaction."""

    def run():
        with session_scope() as session:
            return fn(session, *args, **kwargs)

    return await anyio.to_thread.run_sync(run)


def _in_stage(fn, stage_id: int, *args, lock: bool = True, **kwargs):
    """Run fn(session, ctx, ...) for a stage (row locked for update) in one transaction."""

    def body(session):
        return fn(session, load_stage_by_id(session, stage_id, lock=lock), *args, **kwargs)

    return in_transaction(body)


@dataclass
class Wait:
    """What the flow must wait for next: a form key, its description and a timeout."""

    state: str
    key: str = ""
    description: str = ""
    timeout_s: int = 0
    flow_run_id: str | None = None


@task
async def open_stage(campaign: str, unit: str, flow_run_id: str | None) -> int:
    """Claim the stage for this flow run and start collecting."""
    return await in_transaction(_open, campaign, unit, flow_run_id)


def _open(session, campaign: str, unit: str, flow_run_id: str | None) -> int:
    ctx = load_stage(session, campaign, unit)
    prev = ctx.stage.flow_run_id
    if prev not in (None, flow_run_id) and not _previous_run_finished(prev):
        raise _already_running(ctx, prev)
    same = Stage.flow_run_id.is_(None) if prev is None else Stage.flow_run_id == prev
    claimed = session.exec(update(Stage).where(Stage.id == ctx.stage.id, same).values(flow_run_id=flow_run_id))
    if claimed.rowcount != 1:  # another run claimed it between our read and our write
        raise _already_running(ctx, "?")
    session.refresh(ctx.stage)
    if ctx.stage.state == "open":
        move(session, ctx, "collecting", actor="system")
    return ctx.stage.id


def _already_running(ctx: StageContext, run: str) -> Conflict:
    return Conflict(f"{ctx.unit.name}的环节已在运行（流程运行 {run}），无需重复启动",
                    f"the stage of {ctx.unit.name} is already running (flow run {run})")


def _previous_run_finished(flow_run_id: str | None) -> bool:
    """True when the run that claimed the stage before is over or unknown to Prefect; when
    Prefect cannot be asked, refuse the start (that run may be alive and working)."""
    if not flow_run_id:
        return True
    import httpx
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    try:
        with get_client(sync_client=True) as client:
            state = client.read_flow_run(flow_run_id).state
    except ObjectNotFound:  # a run Prefect no longer knows cannot be running
        return True
    except httpx.HTTPError as exc:  # unreachable, timed out, or an error answer (5xx, ...)
        raise Conflict(f"无法向 Prefect 确认上一次运行（{flow_run_id}）是否已结束，暂不启动；请待 Prefect 恢复后重试",
                       f"cannot ask Prefect whether the previous run ({flow_run_id}) is over, so the stage is "
                       f"not started; try again once Prefect answers ({type(exc).__name__})",
                       flow_run=flow_run_id) from exc
    return state is None or state.is_final()


@task
async def review_stage(stage_id: int) -> str:
    """Formal review of everything collected; return the stage's state afterwards."""
    return await _in_stage(_review, stage_id)


def _review(session, ctx: StageContext) -> str:
    from tasks.review import review_entries

    if ctx.stage.state in ("collecting", "reviewing"):
        move(session, ctx, "reviewing", actor="system")
        review_entries(session, ctx)
        if not stage_entries(session, ctx, "eligible", "selected", "not_selected"):
            _close_empty(session, ctx)
    return ctx.stage.state


def _close_empty(session, ctx: StageContext) -> None:
    """Nothing to recommend: tell the applicants why, and close without an approval round."""
    from tasks.messages import queue_result_notices

    queue_result_notices(session, ctx.stage)
    move(session, ctx, "closed", actor="system", note="无可推荐的申报 / nothing to recommend")


@task
async def prepare_scoring(stage_id: int) -> Wait:
    """Assign experts, write score sheets once, and say whether scores are still missing."""
    return await _in_stage(_prepare_scoring, stage_id)


def _prepare_scoring(session, ctx: StageContext) -> Wait:
    from tasks import score_stage

    if ctx.stage.state not in ("reviewing", "scoring"):
        return Wait(state=ctx.stage.state)
    from tasks.selection import passes_through

    needs = ctx.spec.review == "experts" and any(
        not passes_through(e, ctx.unit) for e in stage_entries(session, ctx, "eligible"))
    if not needs:
        return Wait(state="ready")
    if ctx.stage.state == "reviewing":
        move(session, ctx, "scoring", actor="system")
        score_stage.assign_experts(session, ctx.stage.id)
        _write_sheets(session, ctx)
    if not score_stage.missing_scores(session, ctx.stage.id):
        return Wait(state="ready")
    from tasks.score_input import scores_description

    return Wait(state="scoring", key=f"scores-r{ctx.stage.round}-i{ctx.stage.inputs_seen}",
                description=scores_description(session, ctx.stage.id),
                timeout_s=max(1, round(ctx.spec.approval_timeout_hours * 3600)))


def _write_sheets(session, ctx: StageContext) -> None:
    from core.settings import get_settings
    from tasks.doc_files import safe_component
    from tasks.score_sheets import write_score_sheets

    unit_dir = safe_component(f"{ctx.unit.code}-{ctx.unit.name}")
    folder = get_settings().output_dir / safe_component(ctx.campaign.slug) / unit_dir / "评分表"
    write_score_sheets(session, ctx.stage.id, folder)


@task
async def record_scores_input(stage_id: int, value: dict) -> list[str]:
    """Record scores that came in through the flow run input; return the refusals."""
    return await _in_stage(_record_scores, stage_id, value)


def _record_scores(session, ctx: StageContext, value: dict) -> list[str]:
    from tasks.audit import record
    from tasks.score_input import apply_scores_input

    ctx.stage.inputs_seen += 1
    session.add(ctx.stage)
    errors = apply_scores_input(session, ctx.stage.id, value)
    if errors:
        record(session, actor=str(value.get("expert") or "unknown"), action="scores.refused",
               obj=ctx.stage, at=ctx.now, after={"errors": [str(e) for e in errors]},
               campaign_id=ctx.campaign.id)
    return [str(e) for e in errors]


@task
async def propose_list(stage_id: int) -> str:
    """Rank, apply the quotas and put the proposed list up for approval."""
    return await _in_stage(_propose, stage_id)


def _propose(session, ctx: StageContext) -> str:
    from tasks.score_stage import compute_aggregates, rank_stage
    from tasks.selection import propose

    if ctx.stage.state not in ("reviewing", "scoring"):
        return ctx.stage.state
    if stage_entries(session, ctx, "received"):  # a substitute or refiling came in meanwhile
        move(session, ctx, "reviewing", actor="system", note="新到条目待审查 / new arrivals to review")
        return ctx.stage.state
    compute_aggregates(session, ctx.stage.id)
    rank_stage(session, ctx.stage.id)
    ctx.stage.proposal = propose(session, ctx)
    ctx.stage.awaiting_since, ctx.stage.escalated_at = ctx.now, None
    move(session, ctx, "awaiting_approval", actor="system")
    return ctx.stage.state


@task
async def request_approval(stage_id: int, flow_run_id: str | None) -> Wait:
    """Issue this round's one-time codes and queue the approval requests (once per round)."""
    return await _in_stage(_request_approval, stage_id, flow_run_id)


def _request_approval(session, ctx: StageContext, flow_run_id: str | None) -> Wait:
    from tasks.approval import issue_codes, pause_key
    from tasks.messages import queue_approval_request
    from tasks.selection import proposal_markdown

    if ctx.stage.state != "awaiting_approval":
        return Wait(state=ctx.stage.state)
    md = proposal_markdown(session, ctx, ctx.stage.proposal or [])
    people = {p.id: p for p in ctx.spec.officials}
    codes = issue_codes(session, ctx)
    mail_list = proposal_markdown(session, ctx, ctx.stage.proposal or [], plain=True) if codes else ""
    for official_key, code in codes.items():
        queue_approval_request(session, ctx.stage, _person(session, ctx, official_key), code, mail_list, flow_run_id)
    instructions = ("\n\n---\n填写审批人编号与邮件中收到的一次性审批码；同意选 approve，驳回选 reject 并写明理由，"
                    "修改名单选 edit 并列出申报编号。 / Enter your official id and the one-time code "
                    f"from your e-mail. Officials: {', '.join(sorted(people))}")
    from tasks.approval_history import refusal_lines

    md += refusal_lines(session, ctx)
    return Wait(state="awaiting_approval", key=pause_key(ctx), description=md + instructions,
                timeout_s=max(1, round(ctx.spec.approval_timeout_hours * 3600)), flow_run_id=flow_run_id)


def _person(session, ctx: StageContext, key: str):
    from sqlmodel import select

    from models import Person

    return session.exec(select(Person).where(Person.campaign_id == ctx.campaign.id, Person.key == key)).one()


@task
async def record_approval(stage_id: int, value: dict) -> dict:
    """Check an official's input and record the decision or the refusal."""
    outcome = await _in_stage(_record_approval, stage_id, value)
    return asdict(outcome)


def _record_approval(session, ctx: StageContext, value: dict):
    from tasks.approval import apply_approval
    from tasks.review import list_changed

    changed = list_changed(session, ctx)
    if changed is None:
        return apply_approval(session, ctx, value)
    # the list changed under the official (a return, a substitute): review it again, never apply it
    theirs = (value.get("reason") or "").strip() if value.get("decision") == "reject" else ""
    reason = f"{theirs}；{changed[0]}" if theirs else changed[0]
    outcome = apply_approval(session, ctx, {**value, "decision": "reject", "reason": reason})
    if outcome.kind == "rejected":
        from tasks.audit import record

        record(session, actor=str(value.get("official")), action="approval.superseded", obj=ctx.stage,
               at=ctx.now, after={"decision": value.get("decision"), "zh": changed[0], "en": changed[1]},
               campaign_id=ctx.campaign.id)
    return outcome


@task
async def escalate_approval(stage_id: int) -> None:
    """Tell the official and the parent unit that an approval is overdue (never approves)."""
    await _in_stage(_escalate, stage_id)


def _escalate(session, ctx: StageContext) -> None:
    from tasks.audit import record
    from tasks.messages import queue_escalation

    if ctx.stage.state != "awaiting_approval" or ctx.stage.escalated_at is not None:
        return
    ctx.stage.escalated_at = ctx.now
    session.add(ctx.stage)
    queue_escalation(session, ctx.stage)
    record(session, actor="system", action="approval.escalate", obj=ctx.stage, at=ctx.now,
           campaign_id=ctx.campaign.id)


@task
async def write_documents(stage_id: int) -> list[str]:
    """Write the 汇总表, 推荐函 and export of an approved stage; return their paths."""
    return await _in_stage(_documents, stage_id)


def _documents(session, ctx: StageContext) -> list[str]:
    from tasks.documents import write_stage_documents

    if ctx.stage.state not in ("approved", "forwarded", "closed"):
        return []
    return [d.path for d in write_stage_documents(session, ctx.stage.id)]


@task
async def forward_list(stage_id: int) -> int:
    """Send the approved entries up to the parent unit, exactly once."""
    return await _in_stage(_forward, stage_id)


def _forward(session, ctx: StageContext) -> int:
    from tasks.forward import forward_entries

    if ctx.stage.state != "approved":
        return 0
    sent = forward_entries(session, ctx)
    move(session, ctx, "forwarded", actor="system")
    return sent


@task
async def notify_and_close(stage_id: int) -> str:
    """Queue the stage-closed mail with documents and the applicants' results; close."""
    return await _in_stage(_close, stage_id)


def _close(session, ctx: StageContext) -> str:
    from pathlib import Path

    from sqlmodel import select

    from models import Document
    from tasks.letter import letter_attachment_names
    from tasks.messages import queue_result_notices, queue_stage_closed

    if ctx.stage.state != "forwarded":
        return ctx.stage.state
    # the parent gets the 推荐函 and exactly the tables its 附件 names; the export stays with the unit
    tables = set(letter_attachment_names(ctx.config, ctx.spec))
    docs = [d for d in session.exec(select(Document).where(Document.stage_id == ctx.stage.id)
                                    .order_by(Document.kind, Document.direction))
            if d.kind == "letter" or (d.kind == "summary" and Path(d.path).name in tables)]
    queue_stage_closed(session, ctx.stage, docs)
    queue_result_notices(session, ctx.stage)
    move(session, ctx, "closed", actor="system")
    return ctx.stage.state


async def publish_artifacts(stage_id: int, phase: str, *, progress_only: bool = False) -> None:
    """Show the stage's list, summary and documents in the Prefect UI (never fails the stage).

    A plain coroutine, not a task: the artifacts belong to the stage's flow run, and a task
    run per publication would only add load on the Prefect server.
    """

    from tasks.artifacts import apublish_stage_artifacts

    try:
        await apublish_stage_artifacts(stage_id, phase=phase, progress_only=progress_only)
    except Exception as exc:  # artifacts are a view; the database holds the truth
        from prefect import get_run_logger

        get_run_logger().warning("看板产物未更新 / artifacts not published: %s", exc)


def reviews_with_experts(stage_id: int) -> bool:
    """True when the stage's unit scores entries with experts (a quick read, not a task)."""
    with session_scope() as session:
        ctx = load_stage_by_id(session, stage_id)
        return ctx.spec.review == "experts" and ctx.stage.state in ("reviewing", "scoring")


def scores_input_for_stage(stage_id: int):
    """The ScoresInput form class for a stage's campaign rubric."""
    from tasks.score_input import scores_input_model

    with session_scope() as session:
        return scores_input_model(load_stage_by_id(session, stage_id).config.rubric)
