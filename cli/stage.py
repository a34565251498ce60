"""`tuijian stage ...` for coordinators and `tuijian approve` for officials."""

import asyncio

import typer

from cli.common import console, friendly, ready_db

app = typer.Typer(help="推荐环节 / stages", no_args_is_help=True)
CAMPAIGN = typer.Option("2023-xinxi-xiaofei", "--campaign", "-c", help="campaign slug")


@app.command("run")
@friendly
def run(unit: str, campaign: str = CAMPAIGN,
        deployment: str | None = typer.Option(None, help="start through this deployment (e.g. 'stage/stage') instead of in this process"),
        now: bool = typer.Option(False, "--now", "--force", help="start before the deadline: review begins at once and later arrivals are refused")) -> None:
    """Start a unit's stage (in this process, or as a deployment run picked up by a worker)."""
    ready_db()
    if not now:
        refuse_early_start(campaign, unit)
    if deployment:
        run_, fresh = start_by_deployment(deployment, campaign, unit)
        if fresh:
            console.print(f"已启动 / started flow run [bold]{run_.name}[/] ({run_.id})")
        else:
            console.print(f"该环节已在运行，未重复启动 / the stage is already running: [bold]{run_.name}[/] ({run_.id})")
        return
    from flows.stage import stage

    state = asyncio.run(stage(campaign=campaign, unit=unit))
    console.print(f"环节状态 / stage state: [bold]{state}[/]")


def refuse_early_start(campaign: str, unit: str) -> None:
    """Refuse to start a stage that still takes arrivals before its deadline (without --now)."""
    from core.clock import fmt
    from core.db import session_scope
    from core.errors import Conflict
    from tasks.stages import effective_deadline, load_stage

    with session_scope() as session:
        ctx = load_stage(session, campaign, unit)
        deadline, name = effective_deadline(ctx.stage, ctx.unit), ctx.unit.name
        early = ctx.stage.state in ("open", "collecting") and ctx.now < deadline
    if early:
        raise Conflict(f"{name}的收件截止时间为 {fmt(deadline)}，尚未到期：现在启动将立即开始审查，"
                       "此后到达的申报和下级报送都将被拒收。确需提前启动，请加 --now",
                       f"{name} takes arrivals until {fmt(deadline)}: starting now begins the review at once "
                       "and refuses whatever arrives later. Add --now to start anyway")


def manual_run_key(campaign: str, unit: str, claimed_by: str | None, round_: int) -> str:
    """The idempotency key of a coordinator's start: the same until the stage needs a new run.

    Two clicks before the run claims the stage get one run; once the run that held the stage
    has ended (crashed, locked out, returned to) or an unlock began a new round, the key is new.
    """
    return f"{campaign}:{unit}:{claimed_by or 'unclaimed'}:r{round_}"


def start_by_deployment(deployment: str, campaign: str, unit: str):
    """Start the stage through a deployment; return (flow run, started now) — an alive run is returned as is."""
    from prefect import get_client
    from prefect.deployments import run_deployment

    from core.db import session_scope
    from tasks.stages import load_stage

    with session_scope() as session:
        row = load_stage(session, campaign, unit).stage
        claimed_by, round_ = row.flow_run_id, row.round
    if claimed_by:
        from prefect.exceptions import ObjectNotFound

        try:
            with get_client(sync_client=True) as client:
                held = client.read_flow_run(claimed_by)
        except ObjectNotFound:  # a run this server never knew cannot be running
            held = None
        if held is not None and held.state is not None and not held.state.is_final():
            return held, False
    key = manual_run_key(campaign, unit, claimed_by, round_)
    return run_deployment(deployment, parameters={"campaign": campaign, "unit": unit}, timeout=0,
                          idempotency_key=key), True


@friendly
def approve(unit: str, official: str = typer.Option(..., help="your official id"),
            code: str = typer.Option(..., help="the one-time code from your e-mail"),
            reject: str | None = typer.Option(None, help="reject the list, with this reason"),
            edit: str | None = typer.Option(None, help="approve an edited list: references separated by commas"),
            override_double_track: str | None = typer.Option(
                None, help="approve although paper copies / online registration are missing: the reason"),
            campaign: str = CAMPAIGN) -> None:
    """Approve (or reject / edit) a stage's list: sends the same input as the Prefect UI form."""
    from core.db import session_scope
    from core.errors import Conflict
    from tasks.stages import load_stage
    from tasks.waiting import resume

    with session_scope() as session:
        ctx = load_stage(session, campaign, unit)
        run_id, state = ctx.stage.flow_run_id, ctx.stage.state
    if state != "awaiting_approval" or not run_id:
        raise Conflict(f"{unit} 当前不在待审批状态（{state}）", f"{unit} is not awaiting approval ({state})")
    value = {"official": official, "code": code, "decision": "approve", "reason": ""}
    if reject:
        value |= {"decision": "reject", "reason": reject}
    elif edit:
        value |= {"decision": "edit", "selection": [r.strip() for r in edit.split(",") if r.strip()]}
    if override_double_track and not reject:
        value |= {"override_double_track": True, "reason": override_double_track}
    accepted, reason = asyncio.run(resume(run_id, value))
    if not accepted:
        raise Conflict(f"Prefect 未接受输入：{reason}", f"Prefect did not take the input: {reason}")
    console.print("已提交，环节将核验审批码与名额后继续 / submitted: the stage checks the code and quotas, "
                  "then continues (see `tuijian status`)")


@app.command("extend")
@friendly
def extend(unit: str, until: str = typer.Option(..., help="new deadline, Asia/Shanghai"),
           reason: str = typer.Option(...), campaign: str = CAMPAIGN,
           actor: str = typer.Option("coordinator")) -> None:
    """Grant one unit a later deadline (logged)."""
    from core.clock import fmt, parse_local
    from core.db import session_scope
    from tasks.stages import grant_extension, load_stage

    with session_scope() as session:
        ctx = load_stage(session, campaign, unit, lock=True)
        grant_extension(session, ctx, parse_local(until), reason=reason, actor=actor)
    console.print(f"✓ {unit} 截止时间延至 / deadline extended to {fmt(parse_local(until))}")


@app.command("return")
@friendly
def return_(entry: int, to: str = typer.Option(..., help="applicant | sender"),
            reason: str = typer.Option(...), actor: str = typer.Option("coordinator")) -> None:
    """退回修改: return an entry to the applicant or the lower unit, with a reason."""
    from core.db import session_scope
    from tasks.review import return_entry

    with session_scope() as session:
        return_entry(session, entry, to=to, reason=reason, actor=actor)
    console.print(f"✓ 条目 {entry} 已退回 / returned to {to}")


@app.command("unlock")
@friendly
def unlock(unit: str, reason: str = typer.Option(...), campaign: str = CAMPAIGN,
           actor: str = typer.Option("coordinator")) -> None:
    """Unlock a stage locked after wrong approval codes (new round, new codes)."""
    from core.db import session_scope
    from tasks.approval import unlock as do_unlock
    from tasks.stages import load_stage

    with session_scope() as session:
        do_unlock(session, load_stage(session, campaign, unit, lock=True), actor=actor, reason=reason)
    console.print(f"✓ {unit} 已解锁，请重新运行该环节 / unlocked: run the stage again")
