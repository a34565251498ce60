"""What the official should know before answering again: why the last inputs were not taken.

Read from the audit log (refusals and rejections since the stage's last approval), so the
next approval form says why the previous answer did not count.
"""

from sqlmodel import Session, col, select

from models import AuditLog
from tasks.stages import StageContext

SHOWN = 3


def recent_refusals(session: Session, ctx: StageContext) -> list[AuditLog]:
    """The newest refusals and rejections of this stage since its last approval, newest first."""
    mine = (AuditLog.object_type == "stage", AuditLog.object_id == str(ctx.stage.id))
    last_approval = session.exec(select(AuditLog.id).where(*mine, AuditLog.action == "approval.approve")
                                 .order_by(col(AuditLog.id).desc()).limit(1)).first() or 0
    query = (select(AuditLog).where(*mine, col(AuditLog.id) > last_approval,
                                    col(AuditLog.action).startswith("approval.refused.")
                                    | (AuditLog.action == "approval.reject"))
             .order_by(col(AuditLog.id).desc()).limit(SHOWN))
    return list(session.exec(query))


def refusal_lines(session: Session, ctx: StageContext) -> str:
    """Markdown lines for the approval form: the last refusal reason(s); empty when there were none."""
    from tasks.selection import md_escape

    rows = recent_refusals(session, ctx)
    if not rows:
        return ""
    lines = ["", "", "**上次输入未被采纳 / the last input did not count:**", ""]
    for row in rows:
        after = row.after or {}
        if row.action == "approval.reject":
            zh, en = f"已驳回，理由：{after.get('reason', '')}", "rejected with the reason above"
        else:
            zh, en = after.get("zh", ""), after.get("en", "")
        lines.append(f"- {md_escape(row.actor)}: {md_escape(zh)} / {md_escape(en)}")
    return "\n".join(lines)
