"""The reminders flow: deadline reminders and approval escalations, daily at 09:00 Asia/Shanghai."""

from prefect import flow
from prefect.artifacts import create_markdown_artifact

from core.clock import fmt
from tasks.reminders import ReminderReport, find_campaigns, remind_campaign


@flow(persist_result=False)
def reminders(campaign: str | None = None, at: str | None = None) -> list[ReminderReport]:
    """Remind late units and applicants before deadlines; escalate overdue approvals."""
    reports = [remind_campaign(slug, at) for slug in find_campaigns(campaign)]
    create_markdown_artifact(key="reminders", markdown=summary(reports),
                             description="截止提醒与审批催办 / reminders and escalations")
    return reports


def summary(reports: list[ReminderReport]) -> str:
    """Render what was queued as Markdown for the Prefect UI."""
    lines = ["| 活动 campaign | 时间 at | 提醒 reminders | 催办 escalations |", "|---|---|---|---|"]
    for r in reports:
        lines.append(f"| {r.campaign} | {fmt(r.at)} | {len(r.reminders)} | "
                     f"{', '.join(r.escalations) or '—'} |")
    return "\n".join(lines)


__all__ = ["reminders"]
