"""Record the double track: paper copies received per entry, online registration per application.

Recording again replaces the earlier values (before/after in the audit log), so a repeated
command changes nothing. Plain functions in the caller's transaction.
"""

from datetime import date

from sqlmodel import Session, select

from core.clock import campaign_now, local
from core.errors import Conflict, FieldError, ValidationFailed
from models import Application, Campaign, Entry, OnlineRegistration, PaperReceipt
from tasks.audit import record
from tasks.double_track import PENDING_STATUSES, Requirement, requirements
from tasks.entry_refs import find_entry
from tasks.stages import load_stage_by_id, stage_entries


def record_paper_receipt(session: Session, campaign: Campaign, entry_ref: str, *, copies: int,
                         received_on: date, by: str, scan: bool = False) -> PaperReceipt:
    """Record how many paper copies of an entry its unit received (and whether their PDF scan came
    too), when and by whom."""
    if copies < 0 or not by.strip():
        raise ValidationFailed([FieldError("copies" if copies < 0 else "by", "份数不能为负、接收人不能为空",
                                           "copies cannot be negative and the receiver must be named")])
    entry = find_entry(session, campaign, entry_ref)
    row = session.exec(select(PaperReceipt).where(PaperReceipt.entry_id == entry.id)).first()
    before = None if row is None else {"copies": row.copies, "scan": row.scan_received,
                                       "received_on": row.received_on}
    row = row or PaperReceipt(campaign_id=campaign.id, entry_id=entry.id, copies=0,
                              received_on=received_on, received_by=by, recorded_at=campaign_now(campaign.clock))
    row.copies, row.scan_received, row.received_on, row.received_by = copies, scan, received_on, by.strip()
    row.recorded_at = campaign_now(campaign.clock)
    session.add(row)
    session.flush()
    record(session, actor=by.strip(), action="double_track.paper", obj=entry, at=row.recorded_at,
           before=before, after={"copies": copies, "scan": scan, "received_on": received_on,
                                 "unit": entry.unit_code},
           campaign_id=campaign.id)
    return row


def record_online_registration(session: Session, campaign: Campaign, entry_ref: str, *, number: str,
                               registered_on: date, by: str) -> OnlineRegistration:
    """Record an application's registration number on the online system (网上申报系统)."""
    number = number.strip()
    if not number:
        raise ValidationFailed([FieldError("number", "登记号不能为空", "the registration number is empty")])
    app = session.get(Application, find_entry(session, campaign, entry_ref).application_id)
    taken = session.exec(select(OnlineRegistration).where(OnlineRegistration.campaign_id == campaign.id,
                                                          OnlineRegistration.number == number)).first()
    if taken is not None and taken.application_id != app.id:
        other = session.get(Application, taken.application_id).reference
        raise Conflict(f"登记号 {number} 已登记给申报 {other}", f"registration {number} already belongs to {other}")
    row = session.exec(select(OnlineRegistration).where(OnlineRegistration.application_id == app.id)).first()
    before = None if row is None else {"number": row.number, "registered_on": row.registered_on}
    now = campaign_now(campaign.clock)
    row = row or OnlineRegistration(campaign_id=campaign.id, application_id=app.id, number=number,
                                    registered_on=registered_on, recorded_by=by, recorded_at=now)
    row.number, row.registered_on, row.recorded_by, row.recorded_at = number, registered_on, by, now
    session.add(row)
    session.flush()
    record(session, actor=by, action="double_track.online", obj=app, at=now, before=before,
           after={"number": number, "registered_on": registered_on}, campaign_id=campaign.id)
    return row


def record_all_receipts(session: Session, stage_id: int, by: str) -> int:
    """For a simulated office: record what every entry in play at a stage still lacks; return how many."""
    ctx = load_stage_by_id(session, stage_id)
    need = requirements(ctx)
    today = local(ctx.now).date()
    done = 0
    for entry in stage_entries(session, ctx, *PENDING_STATUSES):
        done += _complete(session, ctx.campaign, entry, need, today, by)
    return done


def _complete(session: Session, campaign: Campaign, entry: Entry, need: Requirement,
              today: date, by: str) -> int:
    """Record the paper copies, scan and registration one entry lacks; return 1 if anything was recorded."""
    did = 0
    copies, online = need.copies, need.online
    receipt = session.exec(select(PaperReceipt).where(PaperReceipt.entry_id == entry.id)).first()
    short = receipt is None or receipt.copies < copies or (need.scan and not receipt.scan_received)
    if (copies > 0 or need.scan) and short:
        record_paper_receipt(session, campaign, str(entry.id), copies=max(copies, receipt.copies if receipt else 0),
                             received_on=today, by=by, scan=need.scan or bool(receipt and receipt.scan_received))
        did = 1
    registered = session.exec(select(OnlineRegistration.id)
                              .where(OnlineRegistration.application_id == entry.application_id)).first()
    if online and registered is None:
        number = f"SFXM-{local(campaign_now(campaign.clock)).year}-{entry.application_id:06d}"
        record_online_registration(session, campaign, str(entry.id), number=number, registered_on=today,
                                   by=by)
        did = 1
    return did
