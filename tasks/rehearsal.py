"""Run a whole campaign on a simulated clock with simulated experts and officials.

The path `make demo` and the national benchmark share: the campaign flow starts every stage
as its own flow run; the actors answer each waiting run through Prefect's API.
"""

import asyncio
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class ChainResult:
    failed: dict[str, str] = field(default_factory=dict)
    missing: dict[str, list[str]] = field(default_factory=dict)
    actor_log: list[str] = field(default_factory=list)
    inputs_sent: int = 0


async def run_chain(slug: str, mail_dir: Path, *, max_parallel: int = 8, greedy_unit: str | None = "",
                    poll_seconds: float = 0.5, on_tick=None) -> ChainResult:
    """Drive the campaign flow to the end while the simulated people answer every wait.

    `on_tick(counts)` (optional) gets the number of stages per state after every round.
    """
    from prefect.client.orchestration import get_client

    from flows.campaign import campaign
    from tasks.simulate import Actors

    actors = Actors(slug, mail_dir, greedy_unit=greedy_unit)
    flow_task = asyncio.create_task(campaign(slug, advance_clock=True, poll_seconds=poll_seconds,
                                             max_parallel=max_parallel))
    sent = 0
    try:
        async with get_client() as client:  # one client for every poll and answer
            while not flow_task.done():
                sent += await actors.act_once(client)
                if on_tick is not None:
                    on_tick(stage_counts(slug))
                await asyncio.sleep(poll_seconds)
    finally:  # stopped from outside (a time limit): the campaign flow stops with us
        if not flow_task.done():
            flow_task.cancel()
            await asyncio.gather(flow_task, return_exceptions=True)
    result = flow_task.result()
    return ChainResult(failed=result.get("failed", {}), missing=result.get("missing", {}),
                       actor_log=actors.log, inputs_sent=sent)


def stage_counts(slug: str) -> dict[str, int]:
    """How many of the campaign's stages are in each state."""
    from sqlalchemy import func
    from sqlmodel import select

    from core.db import session_scope
    from models import Stage
    from tasks.campaigns import get_campaign

    with session_scope() as session:
        campaign = get_campaign(session, slug)
        rows = session.exec(select(Stage.state, func.count()).where(Stage.campaign_id == campaign.id)
                            .group_by(Stage.state)).all()
    return dict(rows)
