"""双轨 (double track): a list is approved only when its entries' paper copies and online
registration are in, unless the official overrides it with a reason (audited).

The receiving unit asks for `paper_copies` (0: no paper check); the campaign asks for the
online registration (`double_track.online_registration`). `missing_double_track` is the pure
rule; the rest read the stage's entries and receipts in the caller's session.
"""

from dataclasses import dataclass

from sqlmodel import Session, col, select

from models import Application, Entry, OnlineRegistration, PaperReceipt
from tasks.audit import record
from tasks.stages import StageContext, load_stage_by_id, stage_entries

PENDING_STATUSES = ("received", "eligible", "selected")


@dataclass(frozen=True)
class Holding:
    """One entry to check: its ids and what people recognise it by."""

    entry_id: int
    application_id: int
    reference: str
    project: str


@dataclass(frozen=True)
class Gap:
    """What one entry still lacks: paper copies (have / need) and/or the online registration."""

    entry_id: int
    reference: str
    project: str
    copies: int
    copies_required: int
    online_missing: bool

    @property
    def paper_missing(self) -> bool:
        """Fewer copies than the unit asks for."""
        return self.copies < self.copies_required

    @property
    def zh(self) -> str:
        """What is missing, in Chinese."""
        parts = [f"纸质材料仅 {self.copies}/{self.copies_required} 份"] if self.paper_missing else []
        parts += ["未在网上申报系统登记"] if self.online_missing else []
        return f"{self.reference}（{self.project}）：{'，'.join(parts)}"

    @property
    def en(self) -> str:
        """What is missing, in English."""
        parts = [f"{self.copies} of {self.copies_required} paper copies"] if self.paper_missing else []
        parts += ["not registered on the online system"] if self.online_missing else []
        return f"{self.reference}: {', '.join(parts)}"


def missing_double_track(entries: list[Holding], receipts: dict[int, int], registrations: set[int],
                         copies_required: int, online_required: bool) -> list[Gap]:
    """Return the entries lacking paper copies (by entry) or an online registration (by application)."""
    gaps = []
    for h in entries:
        copies = receipts.get(h.entry_id, 0)
        online_missing = online_required and h.application_id not in registrations
        if copies < copies_required or online_missing:
            gaps.append(Gap(h.entry_id, h.reference, h.project, copies, copies_required, online_missing))
    return gaps


def requirements(ctx: StageContext) -> tuple[int, bool]:
    """The paper copies the stage's unit asks for and whether the online registration is required."""
    return ctx.spec.paper_copies, ctx.config.double_track.online_registration


def gaps_for(session: Session, ctx: StageContext, entry_ids: list[int]) -> list[Gap]:
    """Check some entries of a stage against its double-track requirements."""
    copies, online = requirements(ctx)
    if (copies <= 0 and not online) or not entry_ids:
        return []
    rows = session.exec(select(Entry, Application).join(Application, Application.id == Entry.application_id)
                        .where(col(Entry.id).in_(entry_ids)).order_by(Entry.id)).all()
    holdings = [Holding(e.id, a.id, a.reference, a.project_name or "") for e, a in rows]
    receipts = dict(session.exec(select(PaperReceipt.entry_id, PaperReceipt.copies)
                                 .where(col(PaperReceipt.entry_id).in_(entry_ids))).all())
    registered = set(session.exec(select(OnlineRegistration.application_id).where(
        col(OnlineRegistration.application_id).in_([h.application_id for h in holdings]))).all())
    return missing_double_track(holdings, receipts, registered, copies, online)


def double_track_problems(session: Session, ctx: StageContext, proposal: list[dict]) -> list[tuple[str, str]]:
    """(zh, en) for every proposed entry that lacks its paper copies or online registration."""
    return [(g.zh, g.en) for g in gaps_for(session, ctx, [p["entry"] for p in proposal])]


def double_track_gaps(session: Session, stage_id: int) -> list[Gap]:
    """What the entries still in play at a stage lack (for status and the dashboard)."""
    ctx = load_stage_by_id(session, stage_id)
    return gaps_for(session, ctx, [e.id for e in stage_entries(session, ctx, *PENDING_STATUSES)])


def check_double_track(session: Session, ctx: StageContext, proposal: list[dict], *, override: bool,
                       reason: str, actor: str) -> tuple[str, str, str] | None:
    """Return (why, zh, en) when the list may not be approved; audit an override that lets it pass."""
    problems = double_track_problems(session, ctx, proposal)
    if not problems:
        return None
    if not override:
        return ("double_track", "双轨材料未齐，不能审批：" + "；".join(p[0] for p in problems)
                + "。确需放行请选择 override_double_track 并填写理由",
                "paper copies or online registration missing: " + "; ".join(p[1] for p in problems)
                + ". To approve anyway, set override_double_track and give a reason")
    if not reason:
        return ("override_no_reason", "双轨材料未齐而放行，须填写理由",
                "approving with paper copies or online registration missing needs a reason")
    record(session, actor=actor, action="approval.override_double_track", obj=ctx.stage, at=ctx.now,
           after={"reason": reason, "missing": [p[1] for p in problems]}, campaign_id=ctx.campaign.id)
    return None
