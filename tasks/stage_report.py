"""What a stage run reports about its unit: counts, ranked entries, scoring progress, documents.

Read-only; shared by the Prefect artifacts (`tasks.artifacts`) and usable by anything
that wants a unit's picture at one moment. The text renderings here are pure functions.
"""

import html
import re
from dataclasses import dataclass

from sqlalchemy import func
from sqlalchemy.orm import defer
from sqlmodel import Session, select

from core.clock import fmt
from core.errors import NotFound
from models import Campaign, ConflictOfInterest, Document, Score, Stage
from tasks.campaigns import campaign_config
from tasks.status import build_status
from tasks.status_rules import ELIGIBLE_STATES, CampaignStatus, UnitStatus, remaining
from tasks.unit_detail import DOCUMENT_KIND_NAMES, EntryRow, unit_documents, unit_entries

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~])")


@dataclass
class StageReport:
    """One unit's stage at one moment."""

    stage: Stage
    status: CampaignStatus
    unit: UnitStatus
    entries: list[EntryRow]
    documents: list[Document]
    scores_done: int
    scores_expected: int

    @property
    def scoring_percent(self) -> float | None:
        """Share of expected expert scores received (None when this stage needs none)."""
        if not self.scores_expected:
            return None
        return round(min(100.0, 100 * self.scores_done / self.scores_expected), 1)


def stage_report(session: Session, stage_id: int) -> StageReport:
    """Gather a stage's unit, counts, entries, scoring progress and documents."""
    stage = session.get(Stage, stage_id)
    if stage is None:
        raise NotFound(f"未找到环节 {stage_id}", f"no stage {stage_id}")
    campaign = session.get(Campaign, stage.campaign_id, options=[defer(Campaign.config)])
    status = build_status(session, campaign, subtree=stage.unit_code)
    entries = unit_entries(session, campaign.id, stage.unit_code)
    done, expected = _scoring(session, campaign, stage.unit_code, entries)
    return StageReport(stage=stage, status=status, unit=status.units[stage.unit_code],
                       entries=entries, documents=unit_documents(session, stage.id),
                       scores_done=done, scores_expected=expected)


def _scoring(session: Session, campaign: Campaign, unit_code: str,
             entries: list[EntryRow]) -> tuple[int, int]:
    """(scores in, scores expected): each eligible entry × unconflicted expert × criterion."""
    config = campaign_config(campaign)
    experts = {e.id for e in config.unit(unit_code).experts}
    criteria = len(config.rubric.criteria)
    top = config.unit(unit_code).parent is None  # the top unit scores passthrough entries too
    ids = [e.id for e in entries if e.status in ELIGIBLE_STATES and (top or e.passthrough is None)]
    if not ids or not experts:
        return 0, 0
    conflicts = session.exec(select(func.count()).select_from(ConflictOfInterest).where(
        ConflictOfInterest.entry_id.in_(ids), ConflictOfInterest.expert_key.in_(experts))).one()
    done = session.exec(select(func.count()).select_from(Score).where(
        Score.entry_id.in_(ids), Score.expert_key.in_(experts))).one()
    return done, (len(ids) * len(experts) - conflicts) * criteria


def md(text: object) -> str:
    """Make an applicant-supplied string inert in Markdown (no HTML, no formatting)."""
    return _MD_SPECIAL.sub(r"\\\1", html.escape(str(text), quote=False)).replace("\n", " ")


def ranked_rows(report: StageReport) -> list[dict]:
    """The ranked list as table rows (Chinese column names with English beside them)."""
    short = report.status.short
    return [{
        "方向 Direction": short(e.direction),
        "排名 Rank": e.rank if e.rank is not None else "",
        "得分 Score": f"{e.score.normalize():f}" if e.score is not None else "",
        "申报单位 Applicant": e.enterprise or "",
        "项目名称 Project": e.project or "",
        "编号 Ref.": e.reference,
        "状态 Status": e.status_name,
        "决定 Decision": e.decision,
        "说明 Note": " ".join(n for n in (e.review_note, e.decision_note) if n),
    } for e in report.entries]


def summary_markdown(report: StageReport, phase: str) -> str:
    """A short Markdown summary: state and deadline, counts per direction, what was returned."""
    u, s = report.unit, report.status
    lines = [f"## {md(u.name)}（{md(u.code)}）· {md(u.state_name)} {u.state}",
             f"阶段 phase: **{md(phase)}** · 第 {u.round} 轮 round · 活动时钟 clock {fmt(s.now)}",
             f"截止 deadline: {fmt(u.deadline)}" + ("" if u.done else
                                                   " · {} / {}".format(*remaining(u.seconds_left))),
             "", "| 方向 Direction | 收到 Received | 合格 Eligible | 退回 Returned | 不符合 Ineligible "
             "| 推荐 Recommended | 名额 Quota | 额外 Extra | 直报 Direct | 转报 Pass-through |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for t in u.tallies:
        quota = "可报尽报 no limit" if t.quota is None else f"{t.base_used}/{t.quota}"
        lines.append(f"| {md(s.directions.get(t.direction, t.direction))} | {t.received} | {t.eligible} "
                     f"| {t.returned} | {t.ineligible} | {t.recommended} | {quota} "
                     f"| {t.extra_used}/{t.extra_quota} | {t.direct_used}/{t.direct_quota} | {t.passthrough} |")
    if report.scoring_percent is not None:
        lines += ["", f"专家评分 scores in: {report.scores_done}/{report.scores_expected}"
                      f"（{report.scoring_percent}%）"]
    lines += _refusals(report.entries, "returned", "退回 Returned")
    lines += _refusals(report.entries, "ineligible", "不符合条件 Ineligible")
    if report.documents:
        lines += ["", "### 文件 Documents"]
        lines += [f"- {DOCUMENT_KIND_NAMES.get(d.kind, d.kind)} {md(d.direction)} "
                  f"· sha256 `{d.sha256[:12]}`" for d in report.documents]
    return "\n".join(lines)


def _refusals(entries: list[EntryRow], status: str, title: str) -> list[str]:
    rows = [e for e in entries if e.status == status]
    if not rows:
        return []
    return ["", f"### {title}（{len(rows)}）"] + [
        f"- {md(e.enterprise or '')} — {md(e.project or '')}（{md(e.reference)}）："
        f"{md(e.review_note or '未说明原因 no reason recorded')}" for e in rows]
