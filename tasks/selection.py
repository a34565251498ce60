"""Propose a stage's list from the ranking and the quotas, and apply an approved list.

Demonstration-city extras and direct recommendations (`Entry.passthrough`) skip the
intermediate levels only: a province forwards them as they came, unranked and uncounted;
the top unit (the ministry) scores, ranks and selects them like every other entry.
"""

from sqlmodel import Session
from sqlmodel import select as query_of

from models import Application, Entry, Unit
from tasks.audit import record
from tasks.quotas import Allowance, Candidate, check_selection, quota_for, select, top_titles
from tasks.stages import StageContext, stage_entries

OPEN_STATUSES = ("eligible", "selected", "not_selected")


def passes_through(entry: Entry, unit: Unit) -> bool:
    """True when an extra/direct entry only passes this unit: every unit but the top one."""
    return entry.passthrough is not None and unit.parent_code is not None


def candidates(session: Session, ctx: StageContext) -> tuple[list[Candidate], list[Entry]]:
    """Ranked candidates that count against quotas, and passthrough entries that do not."""
    entries = stage_entries(session, ctx, *OPEN_STATUSES)
    refs = _references(session, [e.application_id for e in entries])
    ranked = [Candidate(e.id, e.direction, e.rank if e.rank is not None else 10**9 + e.id, e.score,
                        refs.get(e.application_id)) for e in entries if not passes_through(e, ctx.unit)]
    return ranked, [e for e in entries if passes_through(e, ctx.unit)]


def allowances(ctx: StageContext) -> dict[str, Allowance]:
    """The unit's allowance per direction."""
    return {d: quota_for(ctx.config, ctx.unit.code, d) for d in ctx.config.directions}


def propose(session: Session, ctx: StageContext) -> list[dict]:
    """Build the proposed list: the quota selection plus every eligible passthrough entry."""
    ranked, passthrough = candidates(session, ctx)
    chosen = select(ranked, allowances(ctx))
    proposal = [{"entry": eid, "kind": kind} for eid, kind in chosen.items()]
    proposal += [{"entry": e.id, "kind": e.passthrough} for e in passthrough]
    rank_of = {c.entry_id: c.rank for c in ranked}
    proposal.sort(key=lambda p: (p["kind"] != "direct", rank_of.get(p["entry"], 10**12), p["entry"]))
    return proposal


def check_proposal(session: Session, ctx: StageContext, proposal: list[dict]) -> list[tuple[str, str]]:
    """Check a (possibly edited) list against the quotas and minimum scores; every passthrough
    entry stays on the list with its kind (it is not this unit's to review)."""
    ranked, passthrough = candidates(session, ctx)
    through = {e.id: e for e in passthrough}
    counted = {p["entry"]: p["kind"] for p in proposal if p["entry"] not in through}
    problems = check_selection(counted, ranked, allowances(ctx))
    kinds = {p["entry"]: p["kind"] for p in proposal}
    for entry in passthrough:
        ref, origin = _reference(session, entry), _origin_name(ctx, entry)
        if entry.id not in kinds:
            problems.append((f"申报编号 {ref} 是{origin}的{_through_name(entry)}，须原样转报，不能从名单中删除",
                             f"{ref} is {origin}'s {entry.passthrough} recommendation passing through: "
                             "it cannot be dropped from the list"))
        elif kinds[entry.id] != entry.passthrough:
            problems.append((f"申报编号 {ref} 是{origin}的{_through_name(entry)}，类别不能改为 {kinds[entry.id]}",
                             f"{ref} arrived as {entry.passthrough} and cannot become {kinds[entry.id]}"))
    return problems


def _references(session: Session, application_ids: list[int]) -> dict[int, str]:
    """申报编号 by application id, in one query."""
    if not application_ids:
        return {}
    query = query_of(Application.id, Application.reference).where(Application.id.in_(application_ids))
    return dict(session.exec(query).all())


def _reference(session: Session, entry: Entry) -> str:
    return session.get(Application, entry.application_id).reference


def _origin_name(ctx: StageContext, entry: Entry) -> str:
    code = entry.origin_unit_code or entry.from_unit_code
    try:
        return ctx.config.unit(code).name
    except KeyError:
        return code or "下级单位"


def _through_name(entry: Entry) -> str:
    return {"extra": "示范城市额外推荐项目", "direct": "特色直报项目"}.get(entry.passthrough, entry.passthrough)


def apply_decision(session: Session, ctx: StageContext, proposal: list[dict], *, actor: str) -> None:
    """Mark entries selected (with their quota kind) or not selected, and provincial titles."""
    kinds = {p["entry"]: p["kind"] for p in proposal}
    entries = stage_entries(session, ctx, *OPEN_STATUSES)
    titles = _titles(ctx, entries)
    for e in entries:
        e.status = "selected" if e.id in kinds else "not_selected"
        e.quota_kind = kinds.get(e.id)
        e.provincial_title = e.id in titles
        e.decision_note = None if e.id in kinds else "未入选（排名未进入推荐名额）"
        session.add(e)
    record(session, actor=actor, action="stage.decide", obj=ctx.stage, at=ctx.now,
           after={"selected": kinds, "titles": sorted(titles)}, campaign_id=ctx.campaign.id)


def _titles(ctx: StageContext, entries: list[Entry]) -> set[int]:
    n = ctx.spec.provincial_titles
    if not n:
        return set()
    return top_titles([(e.id, e.score, e.rank or 10**9) for e in entries if not passes_through(e, ctx.unit)], n)


def proposal_markdown(session: Session, ctx: StageContext, proposal: list[dict], *, plain: bool = False) -> str:
    """The proposed list as a Markdown table for the approval form (applicant text escaped).

    `plain=True` gives the same table for e-mail, where the templates escape HTML themselves
    and Markdown entities would show as "&#40;": only line breaks and column bars are neutralised.
    """
    from tasks.quotas import KIND_NAMES

    cell = plain_cell if plain else md_escape
    lines = [f"## {ctx.unit.name} 拟推荐名单 / proposed list (第 {ctx.stage.round + 1} 轮)", "",
             "| 序号 | 申报编号 | 方向 | 项目单位 | 项目名称 | 得分 | 名额类别 |",
             "|---|---|---|---|---|---|---|"]
    for i, p in enumerate(proposal, 1):
        e = session.get(Entry, p["entry"])
        a = session.get(Application, e.application_id)
        direction = ctx.config.directions[e.direction].name
        score = "—" if e.score is None else f"{e.score:.2f}"
        lines.append(f"| {i} | {a.reference} | {direction} | {cell(a.enterprise_name)} | "
                     f"{cell(a.project_name)} | {score} | {KIND_NAMES.get(p['kind'], p['kind'])} |")
    lines += ["", _quota_lines(ctx, session, proposal)]
    return "\n".join(lines)


def _quota_lines(ctx: StageContext, session: Session, proposal: list[dict]) -> str:
    parts = []
    for d, a in allowances(ctx).items():
        used = sum(1 for p in proposal if p["kind"] == "base" and session.get(Entry, p["entry"]).direction == d)
        cap = "不限（可报尽报）" if a.base is None else str(a.base)
        extra = f"，额外 {a.extra}" if a.extra else ""
        direct = f"，直报 {a.direct}" if a.direct else ""
        parts.append(f"- {ctx.config.directions[d].name}：已用 {used} / 名额 {cap}{extra}{direct}")
    return "\n".join(parts)


def plain_cell(text: str | None) -> str:
    """Applicant text in one table cell of a plain-text message."""
    return " ".join((text or "").split()).replace("|", "｜")


def md_escape(text: str | None) -> str:
    """Make applicant text inert in Markdown/HTML (tables, links, tags)."""
    if not text:
        return ""
    out = text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("\r", " ")
    return "".join(f"&#{ord(ch)};" if ch in "<>&[]()*_`#!" else ch for ch in out)  # one pass: no entity re-escaped
