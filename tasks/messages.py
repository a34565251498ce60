"""Build and queue each kind of message in the caller's transaction (these never commit).

Every message has a key naming its cause (stage, kind, round, recipient, offset), so each
function is idempotent: calling it again queues nothing new and returns an empty list.
A new approval round is a new cause, hence new keys.
"""

from pathlib import Path

from sqlmodel import Session, select

from core.settings import get_settings
from models import Application, ApprovalCode, Document, Entry, Message, Person, Stage
from tasks.mail_context import (
    Recipient,
    already_queued,
    applicant_recipient,
    flow_run_url,
    forwarded,
    overseers,
    people,
    person_recipient,
    stage_context,
)
from tasks.mail_templates import render
from tasks.mime import attachment_spec
from tasks.outbox import enqueue

RESULT_STATES = ("selected", "not_selected", "ineligible", "returned")


def _queue(session: Session, *, key: str, kind: str, template: str, to: Recipient,
           context: dict, campaign_id: int, attachments: list[dict] | None = None) -> Message | None:
    if already_queued(session, key):
        return None
    rendered = render(template, recipient=to, **context)
    return enqueue(session, key=key, kind=kind, recipient=to.email, recipient_name=to.name,
                   subject=rendered.subject, body_text=rendered.text, body_html=rendered.html,
                   attachments=attachments, campaign_id=campaign_id)


def _queue_all(session: Session, stage: Stage, kind: str, recipients: list[Recipient],
               context: dict, key_of, attachments: list[dict] | None = None) -> list[Message]:
    queued = [_queue(session, key=key_of(to), kind=kind, template=kind, to=to, context=context,
                     campaign_id=stage.campaign_id, attachments=attachments) for to in recipients]
    return [m for m in queued if m is not None]


def queue_approval_request(session: Session, stage: Stage, official: Person, code: str,
                           proposal_md: str, flow_run_id: str | None) -> list[Message]:
    """Ask an official to approve the proposed list, with the one-time code and how to answer."""
    issued = session.exec(select(ApprovalCode).where(
        ApprovalCode.stage_id == stage.id, ApprovalCode.official_key == official.key,
        ApprovalCode.round == stage.round)).first()
    context = {**stage_context(session, stage), "official": official, "code": code,
               "proposal_md": proposal_md, "expires_at": issued.expires_at if issued else None}
    context["run_url"] = flow_run_url(flow_run_id) or context["run_url"]
    return _queue_all(session, stage, "approval_request", [person_recipient(official)], context,
                      lambda to: f"stage:{stage.id}:approval_request:r{stage.round}:{to.tag}")


def queue_stage_closed(session: Session, stage: Stage, documents: list[Document]) -> list[Message]:
    """Tell the parent unit's contacts the stage is done, with the 汇总表 and 推荐函 attached.

    Keyed by round: a stage reopened by a return to the sender closes again with new files,
    and that second close is a new message.
    """
    context = stage_context(session, stage)
    if context["parent"] is None:
        return []
    recipients = people(session, stage.campaign_id, context["parent"].code, "contact")
    files = [attachment_spec(document_file(d), d.sha256) for d in documents]
    context |= {"forwarded": forwarded(session, stage), "files": [f["name"] for f in files]}
    return _queue_all(session, stage, "stage_closed", [person_recipient(p) for p in recipients],
                      context, lambda to: f"stage:{stage.id}:stage_closed:r{stage.round}:{to.tag}",
                      files)


def document_file(document: Document) -> Path:
    """Return a document's file; relative paths are under the output directory."""
    path = Path(document.path)
    return path if path.is_absolute() else get_settings().output_dir / path


def queue_result_notices(session: Session, stage: Stage) -> list[Message]:
    """Tell each applicant decided at this stage the outcome and the reason."""
    context = stage_context(session, stage)
    rows = session.exec(
        select(Entry, Application).join(Application, Application.id == Entry.application_id)
        .where(Entry.campaign_id == stage.campaign_id, Entry.unit_code == stage.unit_code,
               Entry.status.in_(RESULT_STATES)).order_by(Entry.id))
    queued = []
    for entry, application in rows:
        to = applicant_recipient(application)
        if to is None:
            continue
        key = f"stage:{stage.id}:result:r{stage.round}:entry{entry.id}:{entry.status}"
        notice = {**context, "entry": entry, "application": application, "reason": reason(entry)}
        queued.append(_queue(session, key=key, kind="result_notice", template="result_notice",
                             to=to, context=notice, campaign_id=stage.campaign_id))
    return [m for m in queued if m is not None]


def queue_return_notices(session: Session, stage: Stage, entry: Entry, *, reason_text: str,
                         return_id: int, sender: Stage | None = None) -> list[Message]:
    """退回修改: tell the applicant, and when returned to the sender the lower unit's contacts.

    `return_id` (the return's audit row) names this return in the keys: the same return never
    queues twice, a later return of the same entry is a new message.
    """
    application = session.get(Application, entry.application_id)
    context = {**stage_context(session, stage), "entry": entry, "application": application,
               "reason": reason_text, "sender": None, "substitute_by": None}
    recipients: list[tuple[str, Recipient]] = []
    if sender is not None:
        below = stage_context(session, sender)
        context |= {"sender": below["unit"], "substitute_by": below["submit_by"]}
        recipients = [("return_to_sender", person_recipient(p))
                      for p in people(session, stage.campaign_id, sender.unit_code, "contact")]
    applicant = applicant_recipient(application)
    if applicant is not None:
        recipients.insert(0, ("return_notice", applicant))
    queued = [_queue(session, key=f"stage:{stage.id}:return:a{return_id}:entry{entry.id}:{to.tag}",
                     kind=kind, template=kind, to=to, context=context, campaign_id=stage.campaign_id)
              for kind, to in recipients]
    return [m for m in queued if m is not None]


def reason(entry: Entry) -> str:
    """Return the reason to give an applicant: the review note for refusals, else the decision note."""
    notes = (entry.review_note, entry.decision_note)
    if entry.status not in ("ineligible", "returned"):
        notes = notes[::-1]
    return next((n.strip() for n in notes if n and n.strip()), "")


def queue_escalation(session: Session, stage: Stage) -> list[Message]:
    """Tell the unit's officials and the parent's contacts that an approval is overdue."""
    context = stage_context(session, stage)
    recipients = people(session, stage.campaign_id, stage.unit_code, "official") + overseers(session, stage)
    return _queue_all(session, stage, "escalation", [person_recipient(p) for p in recipients],
                      context, lambda to: f"stage:{stage.id}:escalation:r{stage.round}:{to.tag}")


def queue_lockout(session: Session, stage: Stage) -> list[Message]:
    """Tell the parent unit's contacts that the stage locked after too many wrong codes."""
    context = stage_context(session, stage)
    recipients = [person_recipient(p) for p in overseers(session, stage)]
    return _queue_all(session, stage, "lockout", recipients, context,
                      lambda to: f"stage:{stage.id}:lockout:r{stage.round}:{to.tag}")


def queue_unit_reminder(session: Session, stage: Stage, offset: int, remaining: int,
                        working_days: bool) -> list[Message]:
    """Remind a unit's contacts to submit before the parent's deadline (once per offset)."""
    context = stage_context(session, stage)
    context |= {"deadline": context["submit_by"], "remaining": remaining,
                "working_days": working_days}
    recipients = [person_recipient(p) for p in people(session, stage.campaign_id, stage.unit_code,
                                                      "contact")]
    return _queue_all(session, stage, "reminder", recipients, context,
                      lambda to: f"stage:{stage.id}:reminder:{to.tag}:d{offset}")


def queue_resubmit_reminder(session: Session, stage: Stage, entry: Entry, application: Application,
                            offset: int, remaining: int, working_days: bool) -> list[Message]:
    """Remind an applicant whose application was returned to resubmit before the deadline."""
    to = applicant_recipient(application)
    if to is None:
        return []
    context = {**stage_context(session, stage), "entry": entry, "application": application,
               "reason": reason(entry), "remaining": remaining, "working_days": working_days}
    message = _queue(session, key=f"stage:{stage.id}:resubmit:entry{entry.id}:{to.tag}:d{offset}",
                     kind="reminder", template="resubmit_reminder", to=to, context=context,
                     campaign_id=stage.campaign_id)
    return [] if message is None else [message]
