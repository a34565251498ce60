"""`tuijian status`: the chain as a tree — states, deadlines, counts against quota, approvals."""

import json

import typer
from rich.text import Text
from rich.tree import Tree

from cli.common import console, friendly, ready_db
from core.clock import fmt
from tasks.status_rules import CampaignStatus, Tally, UnitStatus, remaining, unit_record, walk

STATE_STYLES = {
    "open": "dim", "collecting": "blue", "reviewing": "cyan", "scoring": "magenta",
    "awaiting_approval": "bold yellow", "approved": "green", "forwarded": "bold green",
    "closed": "green",
}


@friendly
def show(
    slug: str | None = typer.Argument(None, help="活动 / campaign slug (optional when only one)"),
    level: str | None = typer.Option(None, help="层级 / level: province, city, 地市级 ..."),
    region: str | None = typer.Option(None, help="地区 / region: code prefix or name, e.g. 44 or 广东"),
    state: str | None = typer.Option(None, help="状态 / state: scoring, 待审批 ..."),
    late: bool = typer.Option(False, "--late", help="只看逾期 / only overdue units"),
    as_json: bool = typer.Option(False, "--json", help="JSON 输出 / machine-readable output"),
) -> None:
    """推荐进度 / Show each unit's stage, deadline, counts against quota and pending approvals."""
    from core.db import session_scope
    from tasks.status import load_status, pick_campaign
    from tasks.status_rules import filter_tree

    ready_db()
    with session_scope() as session:
        status = load_status(session, pick_campaign(session, slug))
        roots, matched = filter_tree(status, level=level, region=region, state=state, late=late)
        gaps = open_gaps(session, status, matched)
    if as_json:
        document = status_document(status, roots, matched)
        document["double_track_missing"] = {code: [g.zh for g in found] for code, found in gaps.items()}
        typer.echo(json.dumps(document, ensure_ascii=False, indent=2))
        return
    console.print(render_tree(status, roots, matched))
    console.print(footer(status, matched))
    for code, found in gaps.items():
        console.print(f"[yellow]双轨缺失 / double track missing[/] {status.units[code].name}：", highlight=False)
        for gap in found:
            console.print(f"  • {gap.zh}", markup=False, highlight=False)


def open_gaps(session, status: CampaignStatus, matched: set[str]) -> dict[str, list]:
    """Paper copies, scans or online registrations still missing at stages not yet approved
    (the same few queries for a chain of any size)."""
    from tasks.campaigns import campaign_config
    from tasks.double_track import gaps_by_unit
    from tasks.status import campaign_head

    codes = [code for code in sorted(matched) if (u := status.units[code]).stage_id
             and u.state not in ("approved", "forwarded", "closed")]
    if not codes:
        return {}
    campaign = campaign_head(session, status.slug)
    return gaps_by_unit(session, campaign.id, campaign_config(campaign), codes)


def status_document(status: CampaignStatus, roots: list[UnitStatus], matched: set[str]) -> dict:
    """The JSON printed by `--json`: the campaign, its clock and the matching units in tree order."""
    units = [u for u in walk(roots) if u.code in matched]
    return {
        "campaign": {"slug": status.slug, "name": status.name, "year": status.year},
        "now": status.now.isoformat(),
        "directions": status.directions,
        "units": [unit_record(u, status) for u in units],
        "late": [u.code for u in status.late if u.code in matched],
        "awaiting_approval": [u.code for u in status.awaiting if u.code in matched],
    }


def render_tree(status: CampaignStatus, roots: list[UnitStatus], matched: set[str]) -> Tree:
    """Build the rich tree: one line per unit, ministry at the top."""
    tree = Tree(Text.assemble((status.name, "bold"), f"  时钟 / clock {fmt(status.now)}"))
    stack = [(tree, node) for node in reversed(roots)]
    while stack:
        parent, node = stack.pop()
        branch = parent.add(unit_line(status, node, dim=node.code not in matched))
        stack.extend((branch, child) for child in reversed(node.children))
    return tree


def unit_line(status: CampaignStatus, unit: UnitStatus, *, dim: bool = False) -> Text:
    """One unit: state, name, code, deadline and time left, counts per direction."""
    line = Text(style="dim" if dim else "")
    line.append(f"[{unit.state_name}]", style=STATE_STYLES.get(unit.state, ""))
    line.append(f" {unit.name} ", style="bold")
    line.append(f"{unit.code} · {unit.level_name}  截止 {fmt(unit.deadline, 'MM-DD HH:mm')}")
    if unit.extended:
        line.append("（已延期）")
    if not unit.done:
        zh, _en = remaining(unit.seconds_left)
        line.append(f" {zh}", style="bold red" if unit.overdue else "")
    for tally in unit.tallies:
        line.append("  │ ")
        line.append_text(tally_text(status.short(tally.direction), tally))
    if unit.pending_approval:
        line.append(f"  ⏳待审批 since {fmt(unit.awaiting_since)}", style="yellow")
    return line


def tally_text(label: str, tally: Tally) -> Text:
    """Received / eligible / recommended against quota for one direction."""
    quota = "不限" if tally.quota is None else str(tally.quota)
    text = Text(f"{label} 收{tally.received} 合格{tally.eligible} 荐{tally.base_used}/{quota}")
    if tally.over_quota:
        text.stylize("bold red")
    if tally.extra_used or tally.extra_quota:
        text.append(f" 额外{tally.extra_used}/{tally.extra_quota}")
    if tally.direct_used or tally.direct_quota:
        text.append(f" 直报{tally.direct_used}/{tally.direct_quota}")
    if tally.passthrough:
        text.append(f" 转报{tally.passthrough}")
    return text


def footer(status: CampaignStatus, matched: set[str]) -> Text:
    """Totals under the tree: units shown, overdue ones, approvals waiting."""
    late = [u for u in status.late if u.code in matched]
    waiting = [u for u in status.awaiting if u.code in matched]
    text = Text(f"{len(matched)} 个单位 / units")
    text.append(f"  逾期 / overdue: {len(late)}", style="bold red" if late else "")
    if late:
        text.append(" (" + "、".join(u.name for u in late[:10]) + ("…" if len(late) > 10 else "") + ")")
    text.append(f"  待审批 / awaiting approval: {len(waiting)}", style="yellow" if waiting else "")
    return text
