"""Record experts' scores and declared conflicts for a stage: all checked first, all or nothing.

Scores come from the flow's run input (source "input") or from a score sheet (source
"sheet"); both arrive as `ScoreRow`s. Recording is an upsert on UNIQUE(entry, expert,
criterion), so recording the same rows again changes nothing and writes no audit row.
"""

from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Literal

from sqlmodel import Session, col, delete, select

from core.errors import FieldError
from models import ConflictOfInterest, Entry, Score
from tasks.audit import record
from tasks.score_stage import conflict_map, scorable_entries, stage_context, unit_experts
from tasks.scoring import score_errors
from tasks.stages import StageContext

NOTE_MAX = 400


@dataclass(frozen=True)
class ScoreRow:
    """One expert's scores for one entry (by reference), or their declaration of a conflict."""

    reference: str
    expert: str
    scores: dict[str, Decimal | None] = field(default_factory=dict)
    conflict: bool = False
    note: str = ""
    row: int | None = None
    file: str | None = None

    @property
    def blank(self) -> bool:
        """No score given and no conflict declared: nothing to record yet."""
        return not self.conflict and all(v is None for v in self.scores.values())


def record_scores(session: Session, stage_id: int, rows: list[ScoreRow], *,
                  source: Literal["input", "sheet"], actor: str) -> list[FieldError]:
    """Check every row, then record them all; return every problem found (nothing written if any)."""
    ctx = stage_context(session, stage_id)
    entries = {app.reference: entry for entry, app in scorable_entries(session, ctx.stage)}
    errors = check_rows(session, ctx, entries, rows)
    if errors:
        return errors
    before, after = write_rows(session, ctx, entries, rows, source)
    if after:
        record(session, actor=actor, action="score.record", obj=("stage", stage_id), at=ctx.now,
               before=before, after={"source": source, **after}, campaign_id=ctx.campaign.id)
    session.flush()
    return []


def check_rows(session: Session, ctx: StageContext, entries: dict[str, Entry],
               rows: list[ScoreRow]) -> list[FieldError]:
    """Return every problem with a batch of rows, each located by file and row."""
    if ctx.spec.review != "experts":
        return [FieldError("expert", f"{ctx.unit.name}不进行专家评审",
                           f"{ctx.unit.code} does no expert review")]
    conflicts = conflict_map(session, ctx)
    seen: set[tuple[str, str]] = set()
    errors: list[FieldError] = []
    for row in rows:
        found = row_problems(ctx, entries, conflicts, row)
        if (row.reference, row.expert) in seen:
            found.append(FieldError("reference", f"{row.reference} 重复出现", f"{row.reference} appears twice"))
        seen.add((row.reference, row.expert))
        errors.extend(replace(e, file=row.file, row=row.row) for e in found)
    return errors


def row_problems(ctx: StageContext, entries: dict[str, Entry],
                 conflicts: dict[tuple[int, str], str], row: ScoreRow) -> list[FieldError]:
    """Return the problems of one row (without location)."""
    if row.expert not in unit_experts(ctx):
        return [FieldError("expert", f"{row.expert} 不是{ctx.unit.name}的评审专家",
                           f"{row.expert} is not an expert of {ctx.unit.code}")]
    entry = entries.get(row.reference)
    if entry is None:
        return [FieldError("reference", f"申报编号 {row.reference} 不在本阶段评审范围内",
                           f"{row.reference} is not an entry scored at this stage")]
    if len(row.note) > NOTE_MAX:
        return [FieldError("note", f"备注超过{NOTE_MAX}字", f"the note is over {NOTE_MAX} characters")]
    given = {k: v for k, v in row.scores.items() if v is not None}
    if row.conflict:
        return [] if not given else [FieldError(
            "conflict", "已申明回避的条目不得打分", "an entry declared as a conflict cannot be scored")]
    if row.blank:
        return []
    reason = conflicts.get((entry.id, row.expert))
    if reason is not None:
        return [FieldError("conflict", f"专家须回避：{reason.split(' / ')[0]}",
                           f"the expert must abstain: {reason.split(' / ')[-1]}")]
    return score_errors(dict(row.scores), ctx.config.rubric)


def write_rows(session: Session, ctx: StageContext, entries: dict[str, Entry],
               rows: list[ScoreRow], source: str) -> tuple[dict, dict]:
    """Upsert scores and record conflicts; return (before, after) of what changed for the audit."""
    ids = [entries[r.reference].id for r in rows if not r.blank]
    existing = {(s.entry_id, s.expert_key, s.criterion): s for s in
                session.exec(select(Score).where(col(Score.entry_id).in_(ids))).all()}
    before: dict[str, str] = {}
    changed: dict[str, str] = {}
    declared: list[str] = []
    for row in rows:
        entry = entries.get(row.reference)
        if row.conflict:
            if declare_conflict(session, entry.id, row):
                declared.append(f"{row.reference}:{row.expert}")
            continue
        for criterion, value in row.scores.items():
            label = f"{row.reference}:{row.expert}:{criterion}"
            score = existing.get((entry.id, row.expert, criterion))
            if value is None or (score is not None and Decimal(score.value) == value):
                continue
            if score is not None:
                before[label] = str(score.value)
            score = score or Score(entry_id=entry.id, expert_key=row.expert, criterion=criterion,
                                   value=value, source=source, recorded_at=ctx.now)
            score.value, score.source, score.recorded_at = value, source, ctx.now
            session.add(score)
            changed[label] = str(value)
    after = {"scores": changed, "conflicts": declared} if changed or declared else {}
    return ({"scores": before} if before else {}), after


def declare_conflict(session: Session, entry_id: int, row: ScoreRow) -> bool:
    """Record an expert's declared conflict (dropping their scores of the entry); False if known."""
    known = session.exec(select(ConflictOfInterest).where(
        ConflictOfInterest.entry_id == entry_id, ConflictOfInterest.expert_key == row.expert)).first()
    if known is not None:
        return False
    zh, en = (f"：{row.note}", f": {row.note}") if row.note else ("", "")
    session.add(ConflictOfInterest(entry_id=entry_id, expert_key=row.expert,
                                   reason=f"专家申明回避{zh} / declared by the expert{en}"[:500]))
    session.exec(delete(Score).where(Score.entry_id == entry_id, Score.expert_key == row.expert))
    return True
