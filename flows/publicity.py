"""The 公示 flow: after the top unit's stage, make its list public, then publish the final list."""

import asyncio
from pathlib import Path

from prefect import flow

from tasks.publicity_tasks import (
    close_publicity_period,
    open_publicity_period,
    publicity_seconds_left,
    publish_final_list,
)


@flow(persist_result=False, log_prints=False)
async def publicity(campaign: str, poll_seconds: float = 60.0) -> list[str]:
    """Open the 公示, wait for its end on the campaign clock, then write the final list."""
    await open_publicity_period(campaign)
    while (left := await publicity_seconds_left(campaign)) > 0:
        await asyncio.sleep(min(poll_seconds, left))
    await close_publicity_period(campaign)
    return await publish_final_list(campaign)


def run_publicity_for_demo(slug: str, *, objection_entry_ref: str | None, uphold: bool = False) -> Path:
    """Demo: open the 公示, lodge and resolve one objection, move the clock to its end, publish."""
    from core.clock import campaign_now, to_utc
    from core.db import session_scope
    from tasks.campaigns import get_campaign
    from tasks.chain import set_clock
    from tasks.publicity import open_publicity

    with session_scope() as session:
        ends = open_publicity(session, slug, actor="demo").ends_at
    if objection_entry_ref is not None:
        _demo_objection(slug, objection_entry_ref, uphold)
    with session_scope() as session:
        set_clock(session, slug, max(to_utc(ends), campaign_now(get_campaign(session, slug).clock)))
    paths = asyncio.run(publicity(slug, poll_seconds=0.5))
    return Path(next(p for p in paths if p.endswith(".html")))


def _demo_objection(slug: str, reference: str, uphold: bool) -> None:
    """Lodge one objection from the public and resolve it the way a reviewer would."""
    from core.db import session_scope
    from tasks.publicity import lodge_objection, resolve_objection

    with session_scope() as session:
        objection = lodge_objection(session, slug, reference, by="公众（模拟）",
                                    text="该项目实际情况与申报材料不符（模拟异议）")
        reason = "经核查，异议成立（模拟）" if uphold else "经核查，与申报材料一致，异议不成立（模拟）"
        resolve_objection(session, slug, objection.id, uphold=uphold, reason=reason, actor="demo")


__all__ = ["publicity", "run_publicity_for_demo"]
