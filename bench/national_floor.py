"""The floor: the same business work as the orchestrated chain, in one process, without Prefect.

Each stage runs the very functions its Prefect tasks wrap (`task.fn`: open, review, scoring,
proposal, approval request, the official's decision, documents, forward, notify and close),
in the order `flows/stage.py` calls them; the units go level by level as `flows/campaign.py`
starts them (deadline reached, or every child reported), with the simulated clock jumping
to the next deadline when nothing is due. Experts give the scores the simulated experts
give (same seeds); the official reads the one-time code from the queued approval e-mail.
No artifacts, no flow runs, no pauses. Mail is queued; delivering it is timed separately.
"""

import asyncio
import random
import time
from datetime import timedelta

from sqlmodel import select

from core.db import session_scope
from tasks.simulate import CODE


def _due(slug: str) -> tuple[list[str], object, bool]:
    """Units due now, the next deadline ahead, and whether every stage is closed."""
    from tasks.chain import chain_rows, due_stages, next_deadline

    with session_scope() as session:
        now, rows = chain_rows(session, slug)
        done = all(s.state == "closed" for s, _ in rows)
        return due_stages(rows, now), next_deadline(rows, now), done


def _advance(slug: str, when) -> None:
    from tasks.chain import set_clock

    with session_scope() as session:
        set_clock(session, slug, when + timedelta(minutes=1))


def expert_scores(slug: str, unit: str, seed: int = 2023) -> dict | None:
    """The next expert's ScoresInput value, scored as `tasks.simulate.Actors` scores (same seeds)."""
    from tasks.score_stage import missing_scores, scorable_entries
    from tasks.stages import load_stage

    with session_scope() as session:
        ctx = load_stage(session, slug, unit)
        missing = missing_scores(session, ctx.stage.id)
        if not missing:
            return None
        expert = missing[0][1]
        refs = {e.id: a.reference for e, a in scorable_entries(session, ctx.stage)}
        rng = random.Random(f"{seed}-{unit}-{expert}")
        rows = [{"reference": refs[eid], "conflict": False, "note": "",
                 **{c.key: rng.randint(55, 98) for c in ctx.config.rubric.criteria}}
                for eid, ex in missing if ex == expert]
    return {"expert": expert, "rows": rows, "sheets_imported": False}


def official_input(slug: str, unit: str) -> dict:
    """What the official submits: the double track recorded, the code read from their e-mail."""
    from models import Message, Person
    from tasks.receipts import record_all_receipts
    from tasks.stages import load_stage

    with session_scope() as session:
        ctx = load_stage(session, slug, unit)
        official = ctx.spec.officials[0]
        record_all_receipts(session, ctx.stage.id, by=f"{ctx.unit.name}收文（模拟）")
        person = session.exec(select(Person).where(Person.campaign_id == ctx.campaign.id,
                                                   Person.key == official.id)).one()
        key = f"stage:{ctx.stage.id}:approval_request:r{ctx.stage.round}:{person.key}"
        body = session.exec(select(Message.body_text).where(Message.key == key)).one()
    return {"official": official.id, "code": CODE.search(body).group(1), "decision": "approve", "reason": ""}


async def run_stage(slug: str, unit: str) -> str:
    """One unit's stage, step by step as flows/stage.py runs it, minus Prefect."""
    from tasks import stage_tasks as t

    stage_id = await t.open_stage.fn(slug, unit, None)
    while True:
        if await t.review_stage.fn(stage_id) == "closed":
            return "closed"
        if t.reviews_with_experts(stage_id):
            while (await t.prepare_scoring.fn(stage_id)).state == "scoring":
                await t.record_scores_input.fn(stage_id, expert_scores(slug, unit))
        await t.propose_list.fn(stage_id)
        if (await t.request_approval.fn(stage_id, None)).state != "awaiting_approval":
            break
        outcome = await t.record_approval.fn(stage_id, official_input(slug, unit))
        if outcome["kind"] == "approved":
            break
    await t.write_documents.fn(stage_id)
    await t.forward_list.fn(stage_id)
    return await t.notify_and_close.fn(stage_id)


async def run_floor(slug: str, time_limit: float | None = None) -> dict:
    """Run every stage of the campaign as above (stopping after `time_limit` seconds if given);
    return the stages run, whether all were, and the seconds taken."""
    started, stages = time.perf_counter(), 0
    while True:
        due, ahead, done = _due(slug)
        if not due:
            if done or ahead is None:
                break
            _advance(slug, ahead)
            continue
        for unit in due:
            if time_limit is not None and time.perf_counter() - started > time_limit:
                return {"stages": stages, "completed": False, "seconds": round(time.perf_counter() - started, 2)}
            await run_stage(slug, unit)
            stages += 1
    return {"stages": stages, "completed": True, "seconds": round(time.perf_counter() - started, 2)}


def floor(slug: str, time_limit: float | None = None) -> dict:
    """Run the floor to the end (from synchronous code)."""
    return asyncio.run(run_floor(slug, time_limit))


async def deliver_all(time_limit: float | None = None) -> dict:
    """Deliver the outbox to the configured SMTP server (in rounds of 500, until `time_limit`);
    return counts and seconds."""
    from tasks.outbox import deliver_pending

    started, sent, failed, pending = time.perf_counter(), 0, 0, 0
    while time_limit is None or time.perf_counter() - started < time_limit:
        report = await deliver_pending(limit=500)
        sent, failed, pending = sent + report.sent, failed + report.failed, report.pending
        if not report.sent and not report.failed:
            break
    return {"sent": sent, "failed": failed, "pending": pending, "seconds": round(time.perf_counter() - started, 2)}
