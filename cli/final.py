"""`tuijian paper|online|publicity|objection|title ...` and `tuijian final-list`: the double track,
the 公示 of the ministry's list, objections, later title changes and the final list."""

import asyncio
from datetime import date

import typer
from rich.table import Table

from cli.common import console, friendly, ready_db
from core.errors import FieldError, ValidationFailed

CAMPAIGN = typer.Option("2023-xinxi-xiaofei", "--campaign", "-c", help="campaign slug")
ACTOR = typer.Option("coordinator", "--actor", help="who does this (audited)")
paper_app = typer.Typer(help="纸质材料接收 / paper copies received", no_args_is_help=True)
online_app = typer.Typer(help="网上申报系统登记 / online registration", no_args_is_help=True)
publicity_app = typer.Typer(help="公示 / public notice of the ministry's list", no_args_is_help=True)
objection_app = typer.Typer(help="公示异议 / objections during the 公示", no_args_is_help=True)
title_app = typer.Typer(help="名单动态调整 / changes after the final list", no_args_is_help=True)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed([FieldError("--date", f"日期格式应为 YYYY-MM-DD：{text}",
                                           f"the date must be YYYY-MM-DD: {text}")]) from None


def _in_session(fn):
    """Run fn(session) in one committed transaction and return its result."""
    from core.db import session_scope

    ready_db()
    with session_scope() as session:
        return fn(session)


@paper_app.command("receive")
@friendly
def paper_receive(entry: str = typer.Argument(..., help="entry id, REFERENCE@UNIT or REFERENCE"),
                  copies: int = typer.Option(..., help="paper copies received"),
                  on: str = typer.Option(..., "--date", help="received on, YYYY-MM-DD"),
                  by: str = typer.Option(..., help="who received them"),
                  scan: bool = typer.Option(False, "--scan", help="their PDF scan came too (e.g. Wuhan)"),
                  campaign: str = CAMPAIGN) -> None:
    """Record the paper copies of an entry received by its unit (and their PDF scan)."""
    from tasks.campaigns import get_campaign
    from tasks.receipts import record_paper_receipt

    row = _in_session(lambda s: record_paper_receipt(s, get_campaign(s, campaign), entry, copies=copies,
                                                     received_on=_day(on), by=by, scan=scan))
    scanned = "，含PDF扫描版 / with the PDF scan" if row.scan_received else ""
    console.print(f"✓ 条目 {row.entry_id} 纸质材料 {row.copies} 份 / {row.copies} paper copies recorded{scanned}")


@online_app.command("register")
@friendly
def online_register(entry: str = typer.Argument(..., help="entry id, REFERENCE@UNIT or REFERENCE"),
                    number: str = typer.Option(..., help="registration number on the online system"),
                    on: str = typer.Option(..., "--date", help="registered on, YYYY-MM-DD"),
                    by: str = ACTOR, campaign: str = CAMPAIGN) -> None:
    """Record an application's registration on the online system."""
    from tasks.campaigns import get_campaign
    from tasks.receipts import record_online_registration

    row = _in_session(lambda s: record_online_registration(s, get_campaign(s, campaign), entry, number=number,
                                                           registered_on=_day(on), by=by))
    console.print(f"✓ 网上登记号 / registration {row.number}")


@publicity_app.command("open")
@friendly
def publicity_open(campaign: str = CAMPAIGN, actor: str = ACTOR) -> None:
    """Open the 公示 of the ministry's list (its stage must be closed)."""
    from core.clock import fmt
    from tasks.publicity import open_publicity

    row = _in_session(lambda s: open_publicity(s, campaign, actor=actor))
    console.print(f"✓ 公示 / 公示 open: {fmt(row.starts_at)} — {fmt(row.ends_at)}")


@publicity_app.command("status")
@friendly
def publicity_status(campaign: str = CAMPAIGN) -> None:
    """Show the 公示: its period, the list's size and every objection."""
    from core.clock import fmt
    from tasks.publicity_status import publicity_status
    from tasks.title_events import STANDING_NAMES

    st = _in_session(lambda s: publicity_status(s, campaign))
    console.print(f"公示状态 / state: [bold]{st.state}[/]  {fmt(st.starts_at)} — {fmt(st.ends_at)}")
    for key, n in sorted(st.standing.items()):
        console.print(f"  {STANDING_NAMES.get(key, key)} / {key}: {n}")
    table = Table("编号 id", "申报编号 ref", "异议人 by", "状态 state", "处理 resolution")
    for o in st.objections:
        table.add_row(str(o.id), o.reference, o.lodged_by, o.state, o.resolution)
    console.print(table)


@publicity_app.command("close")
@friendly
def publicity_close(campaign: str = CAMPAIGN, actor: str = ACTOR) -> None:
    """Close a 公示 that is over (no objection pending) and write the final list."""
    from tasks.final_list import write_final_list
    from tasks.publicity import close_publicity

    docs = _in_session(lambda s: (close_publicity(s, campaign, actor=actor), write_final_list(s, campaign))[1])
    for d in docs:
        console.print(f"✓ {d.path}", soft_wrap=True, highlight=False)


@publicity_app.command("run")
@friendly
def publicity_run(campaign: str = CAMPAIGN, poll_seconds: float = typer.Option(60.0)) -> None:
    """Run the 公示 flow in this process: open, wait for the end, publish the final list."""
    from flows.publicity import publicity

    ready_db()
    for path in asyncio.run(publicity(campaign, poll_seconds=poll_seconds)):
        console.print(f"✓ {path}", soft_wrap=True, highlight=False)


@objection_app.command("lodge")
@friendly
def objection_lodge(entry: str = typer.Argument(..., help="申报编号 of a listed project"),
                    by: str = typer.Option(..., help="who objects"), text: str = typer.Option(...),
                    campaign: str = CAMPAIGN) -> None:
    """Record an objection against a project on the list during the 公示."""
    from tasks.publicity import lodge_objection

    row = _in_session(lambda s: lodge_objection(s, campaign, entry, by=by, text=text))
    console.print(f"✓ 异议编号 / objection id: {row.id}")


@objection_app.command("resolve")
@friendly
def objection_resolve(objection: int, uphold: bool = typer.Option(False, "--uphold"),
                      dismiss: bool = typer.Option(False, "--dismiss"), reason: str = typer.Option(...),
                      campaign: str = CAMPAIGN, actor: str = ACTOR) -> None:
    """Uphold (the project leaves the list) or dismiss an objection, with a reason."""
    from tasks.publicity import resolve_objection

    if uphold == dismiss:
        raise ValidationFailed([FieldError("--uphold/--dismiss", "须且只能选择 --uphold 或 --dismiss 之一",
                                           "give exactly one of --uphold or --dismiss")])
    row = _in_session(lambda s: resolve_objection(s, campaign, objection, uphold=uphold, reason=reason, actor=actor))
    console.print(f"✓ 异议 {row.id}：{row.state}")


@title_app.command("report-change")
@friendly
def title_report_change(reference: str,
                        kind: str = typer.Option(..., help="a key of [title_rules.changes], e.g. merger"),
                        reason: str = typer.Option(...), campaign: str = CAMPAIGN, actor: str = ACTOR) -> None:
    """Record a holder's written report of a major change (兼并、重组、破产清算)."""
    from tasks.title_changes import report_change

    _in_session(lambda s: report_change(s, campaign, reference, kind=kind, reason=reason, actor=actor))
    console.print(f"✓ {reference} 重大变化已报备 / change recorded; the list and the people concerned are updated")


@title_app.command("revoke")
@friendly
def title_revoke(reference: str,
                 reason: str = typer.Option(..., help="a key of [title_rules.revoke_grounds], e.g. false_material"),
                 note: str = typer.Option(...), campaign: str = CAMPAIGN, actor: str = ACTOR) -> None:
    """取消示范项目资格并予以通报: revoke a project's title on one of the campaign's grounds."""
    from tasks.title_changes import revoke_title

    _in_session(lambda s: revoke_title(s, campaign, reference, reason=reason, note=note, actor=actor))
    console.print(f"✓ {reference} 示范项目资格已取消 / title revoked; the list and the people concerned are updated")


@friendly
def final_list(campaign: str = CAMPAIGN) -> None:
    """Write the final list (xlsx and HTML) again, with its history."""
    from tasks.final_list import write_final_list

    for d in _in_session(lambda s: write_final_list(s, campaign)):
        console.print(f"✓ {d.path}", soft_wrap=True, highlight=False)
