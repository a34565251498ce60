"""The deliver_mail flow: send what the outbox holds; while the relay is down, retry with back-off."""

from prefect import flow, task
from prefect.artifacts import acreate_markdown_artifact

from core.db import session_scope
from core.errors import TuijianError
from tasks.campaigns import get_campaign
from tasks.outbox import DeliveryReport, deliver_pending

RETRY_DELAYS = [30, 120, 480]  # matches the outbox's back-off, so a retry finds rows due


class DeliveryPostponed(TuijianError):
    """The relay could not take every due message; they stay pending."""


def _postponed(_task, _run, state) -> bool:
    try:
        state.result()
    except DeliveryPostponed:
        return True
    except Exception:
        return False
    return False


@task(retries=len(RETRY_DELAYS), retry_delay_seconds=RETRY_DELAYS, retry_condition_fn=_postponed)
async def deliver_batch(limit: int | None = None, campaign_id: int | None = None) -> DeliveryReport:
    """Send the due messages; raise DeliveryPostponed if some could not go out yet."""
    report = await deliver_pending(limit=limit, campaign_id=campaign_id)
    if report.deferred:
        raise DeliveryPostponed(f"{report.deferred} 封邮件暂未发出，稍后重试：{report.errors[-1]}",
                                f"{report.deferred} message(s) postponed: {report.errors[-1]}",
                                report=report.model_dump())
    return report


@task
def campaign_id_of(slug: str | None) -> int | None:
    """Return a campaign's id (None for every campaign)."""
    if slug is None:
        return None
    with session_scope() as session:
        return get_campaign(session, slug).id


@flow(persist_result=False)
async def deliver_mail(campaign: str | None = None, limit: int | None = None) -> DeliveryReport:
    """Deliver the pending messages of the outbox now."""
    report = await deliver_batch(limit, campaign_id_of(campaign))
    await acreate_markdown_artifact(
        key="mail-delivery", description="邮件投递 / mail delivery",
        markdown=(f"已发送 sent **{report.sent}** · 失败 failed **{report.failed}** · "
                  f"待发 pending **{report.pending}**"))
    return report


__all__ = ["deliver_mail"]
