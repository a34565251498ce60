"""Scoring at one stage: who scores what, recording scores, aggregates and ranks.

Every function takes the caller's `session` and never commits: the flow's tasks (and
the CLI) own the transaction. A stage's entries are the `Entry` rows of its campaign
and unit; the ones experts score and that get ranked are those with status "eligible", except
demonstration-city extras and direct recommendations below the top unit: they pass the
intermediate levels unranked, and the top unit (the ministry) scores them like the rest.
"""

from decimal import Decimal

from sqlmodel import Session, col, select

from core.campaign import Expert
from models import Application, ConflictOfInterest, Entry, Score, Stage, Unit
from tasks.audit import record
from tasks.scoring import RankItem, aggregate, conflicted, rank, score_errors, weighted_total
from tasks.stages import StageContext, load_stage_by_id

DECIDED = ("selected", "not_selected")


def unit_experts(ctx: StageContext) -> dict[str, Expert]:
    """The stage unit's experts by id; none when the unit does formal review only."""
    return {e.id: e for e in ctx.spec.experts} if ctx.spec.review == "experts" else {}


def stage_context(session: Session, stage_id: int) -> StageContext:
    """Load a stage with its campaign, configuration and unit, or raise NotFound."""
    return load_stage_by_id(session, stage_id)


def scorable_entries(session: Session, stage: Stage) -> list[tuple[Entry, Application]]:
    """Return the stage's eligible entries that it scores (passthrough ones only at the top unit),
    with their applications, by reference."""
    query = (select(Entry, Application).join(Application, col(Application.id) == Entry.application_id)
             .where(Entry.campaign_id == stage.campaign_id, Entry.unit_code == stage.unit_code,
                    Entry.status == "eligible")
             .order_by(Application.reference))
    if not is_top_unit(session, stage):
        query = query.where(col(Entry.passthrough).is_(None))
    return [(entry, app) for entry, app in session.exec(query).all()]


def is_top_unit(session: Session, stage: Stage) -> bool:
    """True for the stage of the unit nobody is above (where passthrough entries end)."""
    parent = session.exec(select(Unit.parent_code).where(Unit.campaign_id == stage.campaign_id,
                                                         Unit.code == stage.unit_code)).one()
    return parent is None


def declared_conflicts(session: Session, entry_ids: list[int]) -> dict[tuple[int, str], str]:
    """Return recorded conflicts of interest as {(entry_id, expert): reason}."""
    rows = session.exec(select(ConflictOfInterest)
                        .where(col(ConflictOfInterest.entry_id).in_(entry_ids))).all()
    return {(c.entry_id, c.expert_key): c.reason for c in rows}


def conflict_map(session: Session, ctx: StageContext) -> dict[tuple[int, str], str]:
    """Every conflict of the stage, recorded or following from the configuration."""
    pairs = scorable_entries(session, ctx.stage)
    found = declared_conflicts(session, [e.id for e, _ in pairs])
    for entry, app in pairs:
        for expert in unit_experts(ctx).values():
            reason = conflicted(expert, uscc=app.uscc, enterprise_name=app.enterprise_name)
            if reason is not None:
                found.setdefault((entry.id, expert.id), reason)
    return found


def expert_assignment(session: Session, stage_id: int) -> dict[int, list[str]]:
    """Return {entry_id: [expert ids]} of who scores what, without writing anything."""
    return assignment_of(session, stage_context(session, stage_id))


def assignment_of(session: Session, ctx: StageContext) -> dict[int, list[str]]:
    """Return {entry_id: [expert ids]} for a loaded stage: the unit's experts minus conflicts."""
    conflicts = conflict_map(session, ctx)
    return {entry.id: [key for key in unit_experts(ctx) if (entry.id, key) not in conflicts]
            for entry, _ in scorable_entries(session, ctx.stage)}


def assign_experts(session: Session, stage_id: int, *, actor: str = "system") -> dict[int, list[str]]:
    """Record the configured conflicts of interest and return {entry_id: [expert ids]}."""
    ctx = stage_context(session, stage_id)
    pairs = scorable_entries(session, ctx.stage)
    recorded = declared_conflicts(session, [e.id for e, _ in pairs])
    for (entry_id, key), reason in conflict_map(session, ctx).items():
        if (entry_id, key) not in recorded:
            session.add(ConflictOfInterest(entry_id=entry_id, expert_key=key, reason=reason[:500]))
            record(session, actor=actor, action="score.conflict", obj=("entry", entry_id),
                   at=ctx.now, after={"expert": key, "reason": reason},
                   campaign_id=ctx.campaign.id)
    session.flush()
    return assignment_of(session, ctx)


def expert_scores(session: Session, entry_ids: list[int]) -> dict[tuple[int, str], dict[str, Decimal]]:
    """Return recorded scores as {(entry_id, expert): {criterion: value}}."""
    rows = session.exec(select(Score).where(col(Score.entry_id).in_(entry_ids))).all()
    out: dict[tuple[int, str], dict[str, Decimal]] = {}
    for s in rows:
        out.setdefault((s.entry_id, s.expert_key), {})[s.criterion] = Decimal(s.value)
    return out


def complete_scores(session: Session, ctx: StageContext) -> dict[int, dict[str, dict[str, Decimal]]]:
    """Return {entry_id: {expert: scores}} keeping only assigned experts with every criterion scored."""
    assignment = assignment_of(session, ctx)
    recorded = expert_scores(session, list(assignment))
    out: dict[int, dict[str, dict[str, Decimal]]] = {}
    for entry_id, experts in assignment.items():
        sets = {key: recorded.get((entry_id, key), {}) for key in experts}
        out[entry_id] = {key: s for key, s in sets.items() if not score_errors(s, ctx.config.rubric)}
    return out


def missing_scores(session: Session, stage_id: int) -> list[tuple[int, str]]:
    """Return (entry_id, expert) pairs still owed a complete set of scores."""
    ctx = stage_context(session, stage_id)
    complete = complete_scores(session, ctx)
    return [(entry_id, key) for entry_id, experts in assignment_of(session, ctx).items()
            for key in experts if key not in complete[entry_id]]


def compute_aggregates(session: Session, stage_id: int) -> dict[int, Decimal | None]:
    """Compute each scorable entry's aggregate score, store it as Entry.score and return them."""
    ctx = stage_context(session, stage_id)
    rubric = ctx.config.rubric
    out: dict[int, Decimal | None] = {}
    for entry_id, sets in complete_scores(session, ctx).items():
        out[entry_id] = aggregate([weighted_total(s, rubric) for s in sets.values()], rubric)
        entry = session.get(Entry, entry_id)
        entry.score = out[entry_id]
        session.add(entry)
    session.flush()
    return out


def rank_stage(session: Session, stage_id: int) -> list[RankItem]:
    """Rank the scorable entries by `tasks.scoring.rank` and store Entry.rank; return them.

    Call after `compute_aggregates` (it ranks on Entry.score). Undecided entries that are
    not scorable get their rank cleared; entries already selected or not are left alone.
    """
    ctx = stage_context(session, stage_id)
    complete = complete_scores(session, ctx)
    first = ctx.config.rubric.criteria[0].key
    items = []
    for entry, app in scorable_entries(session, ctx.stage):
        sets = complete[entry.id]
        firsts = [s[first] for s in sets.values()]
        mean_first = sum(firsts) / len(firsts) if firsts else None
        items.append(RankItem(entry.id, app.reference, entry.arrived_at, entry.score,
                              len(sets), mean_first))
    ranked = rank(items)
    by_id = {item.entry_id: item.rank for item in ranked}
    for entry in session.exec(select(Entry).where(Entry.campaign_id == ctx.stage.campaign_id,
                                                  Entry.unit_code == ctx.stage.unit_code)).all():
        if entry.status not in DECIDED and entry.rank != by_id.get(entry.id):
            entry.rank = by_id.get(entry.id)
            session.add(entry)
    session.flush()
    return ranked
