"""The 公示 steps as Prefect tasks: each opens its own transaction and is safe to re-run."""

from prefect import task

from core.clock import campaign_now
from tasks.campaigns import get_campaign
from tasks.stage_tasks import in_transaction


@task
async def open_publicity_period(campaign: str) -> int:
    """Open the 公示 of the top unit's list (once); return its id."""
    from tasks.publicity import open_publicity

    return (await in_transaction(lambda s: open_publicity(s, campaign, actor="system"))).id


@task
async def publicity_seconds_left(campaign: str) -> float:
    """Seconds until the 公示 may close on the campaign clock (inf while objections are pending)."""
    from tasks.publicity import pending_objections, require_publicity, seconds_left

    def left(session) -> float:
        row = get_campaign(session, campaign)
        publicity = require_publicity(session, row)
        if publicity.state == "closed":
            return 0.0
        return seconds_left(campaign_now(row.clock), publicity.ends_at, pending_objections(session, publicity))

    return await in_transaction(left)


@task
async def close_publicity_period(campaign: str) -> str:
    """Close the 公示 and award every entry still on the list."""
    from tasks.publicity import close_publicity

    return (await in_transaction(lambda s: close_publicity(s, campaign))).state


@task
async def publish_final_list(campaign: str) -> list[str]:
    """Write the final list (xlsx and HTML) and the manifest; return the files."""
    from tasks.final_list import write_final_list

    return await in_transaction(lambda s: [d.path for d in write_final_list(s, campaign)])
