"""`tuijian outbox`, `tuijian mail send`, `tuijian remind`: the outbox, delivery, reminders."""

import asyncio
import json

import typer
from rich.table import Table

from cli.common import console, friendly, ready_db

outbox_app = typer.Typer(help="发件箱 / the outbox: pending, sent and failed messages")
mail_app = typer.Typer(help="邮件投递 / mail delivery", no_args_is_help=True)
remind_app = typer.Typer(help="截止提醒与审批催办 / deadline reminders and escalations")

STATUS_STYLE = {"pending": "yellow", "sending": "cyan", "sent": "green", "failed": "bold red"}


def _campaign_id(session, slug: str | None) -> int | None:
    from tasks.campaigns import get_campaign

    return None if slug is None else get_campaign(session, slug).id


def message_dict(m) -> dict:
    """Return the listing fields of a message as plain JSON-ready data."""
    from core.clock import fmt

    return {
        "id": m.id, "key": m.key, "kind": m.kind, "status": m.status,
        "recipient": m.recipient, "recipient_name": m.recipient_name, "subject": m.subject,
        "attempts": m.attempts, "created_at": fmt(m.created_at), "sent_at": fmt(m.sent_at),
        "next_attempt_at": fmt(m.next_attempt_at), "smtp_response": m.smtp_response,
        "last_error": m.last_error, "message_id": m.message_id,
        "attachments": [a["name"] for a in m.attachments],
    }


@outbox_app.callback(invoke_without_command=True)
@friendly
def outbox(ctx: typer.Context,
           status: str | None = typer.Option(None, help="pending | sending | sent | failed"),
           kind: str | None = typer.Option(None, help="approval_request | stage_closed | ..."),
           campaign: str | None = typer.Option(None, help="campaign slug"),
           to: str | None = typer.Option(None, help="recipient e-mail"),
           limit: int = typer.Option(50, help="at most this many, newest first"),
           as_json: bool = typer.Option(False, "--json", help="print JSON instead of a table")) -> None:
    """List the messages of the outbox, newest first."""
    if ctx.invoked_subcommand is not None:
        return
    from core.db import session_scope
    from tasks.outbox_state import list_messages, status_counts

    ready_db()
    with session_scope() as session:
        campaign_id = _campaign_id(session, campaign)
        rows = [message_dict(m) for m in list_messages(
            session, status=status, kind=kind, campaign_id=campaign_id, recipient=to, limit=limit)]
        counts = status_counts(session, campaign_id)
    if as_json:
        typer.echo(json.dumps({"counts": counts, "messages": rows}, ensure_ascii=False, indent=2))
        return
    console.print(_table(rows))
    console.print(" · ".join(f"{k} {counts.get(k, 0)}" for k in STATUS_STYLE), highlight=False)


def _table(rows: list[dict]) -> Table:
    table = Table(title="发件箱 / outbox", show_lines=False)
    for head in ("#", "状态 status", "类型 kind", "收件人 to", "主题 subject", "次数 tries",
                 "时间 time", "服务器答复 / 错误 response / error"):
        table.add_column(head, overflow="fold")
    for r in rows:
        style = STATUS_STYLE.get(r["status"], "")
        table.add_row(str(r["id"]), f"[{style}]{r['status']}[/]", r["kind"], r["recipient"],
                      r["subject"], str(r["attempts"]), r["sent_at"] or r["created_at"],
                      r["last_error"] or r["smtp_response"] or "")
    return table


@outbox_app.command("show")
@friendly
def show(message_id: int = typer.Argument(..., help="the # shown by `tuijian outbox`")) -> None:
    """Print one message as plain text: headers, body and attachment names."""
    from core.db import session_scope
    from core.errors import NotFound
    from models import Message

    ready_db()
    with session_scope() as session:
        m = session.get(Message, message_id)
        if m is None:
            raise NotFound(f"没有编号为 {message_id} 的邮件", f"no message #{message_id}")
    console.print(f"To: {m.recipient_name or ''} <{m.recipient}>\nSubject: {m.subject}\n"
                  f"Message-ID: {m.message_id}\nStatus: {m.status}\n", markup=False, highlight=False)
    console.print(m.body_text, markup=False, highlight=False)
    for a in m.attachments:
        console.print(f"📎 {a['name']}  ({a['path']})", markup=False, highlight=False)


@mail_app.command("send")
@friendly
def send(campaign: str | None = typer.Option(None, help="only this campaign's messages"),
         limit: int | None = typer.Option(None, help="send at most this many")) -> None:
    """Deliver the pending messages now."""
    from core.db import session_scope
    from tasks.outbox import deliver_pending

    ready_db()
    with session_scope() as session:
        campaign_id = _campaign_id(session, campaign)
    report = asyncio.run(deliver_pending(limit=limit, campaign_id=campaign_id))
    console.print(f"已发送 sent [green]{report.sent}[/] · 失败 failed [red]{report.failed}[/] · "
                  f"推迟 deferred [yellow]{report.deferred}[/] · 待发 pending {report.pending}")
    for error in dict.fromkeys(report.errors):
        console.print(f"  • {error}", markup=False, highlight=False)


@remind_app.callback(invoke_without_command=True)
@friendly
def remind(campaign: str | None = typer.Option(None, help="campaign slug (default: all)"),
           at: str | None = typer.Option(None, help="act as of this Asia/Shanghai time")) -> None:
    """Run the reminders flow now: queue due reminders and escalate overdue approvals."""
    from core.clock import fmt
    from flows.reminders import reminders

    ready_db()
    for report in reminders(campaign=campaign, at=at):
        console.print(f"[bold]{report.campaign}[/] @ {fmt(report.at)}: "
                      f"{len(report.reminders)} 条提醒 reminders, "
                      f"{len(report.escalations)} 项催办 escalations")
        for line in report.reminders:
            console.print(f"  • {line}", markup=False, highlight=False)
        for code in report.escalations:
            console.print(f"  ⚠ {code} 审批超时 approval overdue", highlight=False)
    console.print("用 `tuijian mail send` 立即发送 / run `tuijian mail send` to deliver now")
