"""双轨 (double track): a list is approved only when its entries' paper copies and online
registration are in, unless the official overrides it with a reason (audited).

The receiving unit asks for `paper_copies` (0: no paper check) and, with
`paper_scan_required`, a PDF scan of them; the campaign asks for the online registration
(`double_track.online_registration`). `missing_double_track` is the pure rule; the rest read
the stage's entries and receipts in the caller's session.
"""

from collections import defaultdict
from dataclasses import dataclass
from typing import NamedTuple

from sqlmodel import Session, col, select

from core.campaign import CampaignConfig
from models import Application, Entry, OnlineRegistration, PaperReceipt
from tasks.audit import record
from tasks.stages import StageContext, load_stage_by_id

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
    scan_missing: bool = False

    @property
    def paper_missing(self) -> bool:
        """Fewer copies than the unit asks for."""
        return self.copies < self.copies_required

    @property
    def zh(self) -> str:
        """What is missing, in Chinese."""
        parts = [f"纸质材料仅 {self.copies}/{self.copies_required} 份"] if self.paper_missing else []
        parts += ["未收到PDF扫描版"] if self.scan_missing else []
        parts += ["未在网上申报系统登记"] if self.online_missing else []
        return f"{self.reference}（{self.project}）：{'，'.join(parts)}"

    @property
    def en(self) -> str:
        """What is missing, in English."""
        parts = [f"{self.copies} of {self.copies_required} paper copies"] if self.paper_missing else []
        parts += ["no PDF scan"] if self.scan_missing else []
        parts += ["not registered on the online system"] if self.online_missing else []
        return f"{self.reference}: {', '.join(parts)}"


class Requirement(NamedTuple):
    """What a receiving unit checks: paper copies, their PDF scan, the online registration."""

    copies: int
    online: bool
    scan: bool = False

    @property
    def any(self) -> bool:
        return self.copies > 0 or self.online or self.scan


def missing_double_track(entries: list[Holding], receipts: dict[int, int], registrations: set[int],
                         copies_required: int, online_required: bool, *, scans: set[int] = frozenset(),
                         scan_required: bool = False) -> list[Gap]:
    """Return the entries lacking paper copies or their scan (by entry) or an online registration
    (by application)."""
    gaps = []
    for h in entries:
        copies = receipts.get(h.entry_id, 0)
        online_missing = online_required and h.application_id not in registrations
        scan_missing = scan_required and h.entry_id not in scans
        if copies < copies_required or online_missing or scan_missing:
            gaps.append(Gap(h.entry_id, h.reference, h.project, copies, copies_required, online_missing,
                            scan_missing))
    return gaps


def unit_requirement(config: CampaignConfig, unit_code: str) -> Requirement:
    """What a unit asks for before its list may be approved."""
    spec = config.unit(unit_code)
    return Requirement(spec.paper_copies, config.double_track.online_registration, spec.paper_scan_required)


def requirements(ctx: StageContext) -> Requirement:
    """The paper copies (and scan) the stage's unit asks for and whether the online registration is required."""
    return unit_requirement(ctx.config, ctx.unit.code)


def _holdings_query(campaign_id: int):
    """Entries with their application, paper receipt and online registration (outer joins)."""
    return (select(Entry.unit_code, Entry.id, Application.id, Application.reference, Application.project_name,
                   PaperReceipt.copies, PaperReceipt.scan_received, OnlineRegistration.id)
            .join(Application, Application.id == Entry.application_id)
            .join(PaperReceipt, PaperReceipt.entry_id == Entry.id, isouter=True)
            .join(OnlineRegistration, OnlineRegistration.application_id == Application.id, isouter=True)
            .where(Entry.campaign_id == campaign_id).order_by(Entry.id))


def _gaps_of_rows(rows, need: Requirement) -> list[Gap]:
    holdings = [Holding(entry_id, app_id, ref, project or "") for _u, entry_id, app_id, ref, project, *_ in rows]
    receipts = {r[1]: r[5] for r in rows if r[5] is not None}
    scans = {r[1] for r in rows if r[6]}
    registered = {r[2] for r in rows if r[7] is not None}
    return missing_double_track(holdings, receipts, registered, need.copies, need.online,
                                scans=scans, scan_required=need.scan)


def gaps_for(session: Session, ctx: StageContext, entry_ids: list[int]) -> list[Gap]:
    """Check some entries of a stage against its double-track requirements (one query)."""
    need = requirements(ctx)
    if not need.any or not entry_ids:
        return []
    rows = session.exec(_holdings_query(ctx.campaign.id).where(col(Entry.id).in_(entry_ids))).all()
    return _gaps_of_rows(rows, need)


def gaps_by_unit(session: Session, campaign_id: int, config: CampaignConfig,
                 unit_codes: list[str]) -> dict[str, list[Gap]]:
    """What the entries still in play lack at each of these units: one query whatever their number."""
    needs = {code: need for code in unit_codes if (need := unit_requirement(config, code)).any}
    if not needs:
        return {}
    rows = session.exec(_holdings_query(campaign_id).where(
        col(Entry.unit_code).in_(list(needs)), col(Entry.status).in_(PENDING_STATUSES))).all()
    by_unit = defaultdict(list)
    for row in rows:
        by_unit[row[0]].append(row)
    return {code: found for code in unit_codes if code in needs
            and (found := _gaps_of_rows(by_unit.get(code, []), needs[code]))}


def double_track_problems(session: Session, ctx: StageContext, proposal: list[dict]) -> list[tuple[str, str]]:
    """(zh, en) for every proposed entry that lacks its paper copies, their scan or online registration."""
    return [(g.zh, g.en) for g in gaps_for(session, ctx, [p["entry"] for p in proposal])]


def double_track_gaps(session: Session, stage_id: int) -> list[Gap]:
    """What the entries still in play at a stage lack (for status and the dashboard)."""
    ctx = load_stage_by_id(session, stage_id)
    return gaps_by_unit(session, ctx.campaign.id, ctx.config, [ctx.unit.code]).get(ctx.unit.code, [])


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
