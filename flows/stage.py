"""The stage flow: one administrative unit's turn in the recommendation chain."""

import anyio
from prefect import flow, get_run_logger
from prefect.runtime import flow_run as runtime_run

from core.errors import Conflict
from tasks.approval import ApprovalInput
from tasks.inputs import current_run_id, forget_answers, wait_for
from tasks.stage_tasks import (
    escalate_approval,
    forward_list,
    notify_and_close,
    open_stage,
    prepare_scoring,
    propose_list,
    publish_artifacts,
    record_approval,
    record_scores_input,
    request_approval,
    review_stage,
    write_documents,
)


def run_name() -> str:
    """Name each run `<unit name> · <level>` so people find it in the UI."""
    from core.db import session_scope
    from tasks.stages import load_stage, stage_title

    params = runtime_run.parameters
    try:
        with session_scope() as session:
            return stage_title(load_stage(session, params["campaign"], params["unit"]).unit)
    except Exception:  # the name is cosmetic; the flow itself reports a bad unit properly
        return f"{params.get('unit')} · stage"


@flow(flow_run_name=run_name, persist_result=False, log_prints=False)
async def stage(campaign: str, unit: str, send_mail: bool = True) -> str:
    """Collect, review, score, select, approve, document, forward and notify for one unit.

    `send_mail=False` leaves delivery to the caller (the campaign flow runs one deliverer for
    all its stages instead of one SMTP session per stage and step).
    """
    run_id = current_run_id()
    mail = deliver_mail if send_mail else _no_delivery
    stage_id = await open_stage(campaign, unit, run_id)
    while True:
        if await review_stage(stage_id) == "closed":  # nothing eligible: the summary says why
            await publish_artifacts(stage_id, "closed")
            await mail()
            return "closed"
        await obtain_scores(stage_id)
        await propose_list(stage_id)
        await publish_artifacts(stage_id, "awaiting_approval")
        if await obtain_approval(stage_id, run_id, mail) == "approved":
            break
    await write_documents(stage_id)
    await forward_list(stage_id)
    state = await notify_and_close(stage_id)
    await publish_artifacts(stage_id, "closed")
    await mail()
    return state


async def obtain_scores(stage_id: int) -> None:
    """Wait for expert scores (form input or imported sheets) until none is missing."""
    from tasks.stage_tasks import reviews_with_experts, scores_input_for_stage

    if not await anyio.to_thread.run_sync(reviews_with_experts, stage_id):
        return
    while (need := await prepare_scoring(stage_id)).state == "scoring":
        await publish_artifacts(stage_id, "scoring", progress_only=True)  # scores in so far
        model = scores_input_for_stage(stage_id)
        value = await wait_for(model, description=need.description, key=need.key,
                               timeout_s=need.timeout_s)
        if value is None:
            continue
        refused = await record_scores_input(stage_id, value.model_dump(mode="json"))
        for line in refused:
            get_run_logger().warning("评分被拒 / scores refused: %s", line)


async def obtain_approval(stage_id: int, run_id: str | None, mail) -> str:
    """Wait for the official's decision; refusals wait again, timeouts escalate, never approve."""
    while (need := await request_approval(stage_id, run_id)).state == "awaiting_approval":
        await mail()
        value = await wait_for(ApprovalInput, description=need.description,
                               key=need.key, timeout_s=need.timeout_s)
        if value is None:
            await escalate_approval(stage_id)
            await mail()
            continue
        outcome = await record_approval(stage_id, value.model_dump(mode="json"))
        await forget_answers("approval")  # Prefect would keep the one-time code in clear text
        get_run_logger().info("审批 / approval: %s — %s", outcome["kind"], outcome["zh"])
        if outcome["kind"] == "locked":
            await mail()  # the lockout notice to the parent unit goes out before the run ends
            raise Conflict("多次输入错误，环节已锁定，已通知上级单位", "too many wrong codes: the stage is locked and the parent unit told")
        if outcome["kind"] == "rejected":
            return "rejected"
    return "approved" if need.state in ("approved", "forwarded", "closed") else need.state


async def _no_delivery() -> int:
    """Delivery is someone else's job (see `stage(send_mail=False)`)."""
    return 0


async def deliver_mail(limit: int | None = None) -> int:
    """Send what the outbox holds now (at most `limit`); return how many were tried.

    An SMTP outage leaves the messages pending for later.
    """
    from tasks.outbox import deliver_pending

    try:
        report = await deliver_pending(limit=limit)
    except Exception as exc:  # delivery never fails a stage: the outbox keeps the messages
        get_run_logger().warning("邮件暂未发出 / mail not sent yet: %s", exc)
        return 0
    return report.tried


__all__ = ["stage"]
