"""Refiling (重新申报): the revised version of an application returned to the applicant.

A project is filed once per campaign (UNIQUE(campaign_id, dedup_key)), and an application
stands at each unit once (UNIQUE(application_id, unit_code)). So a revision the unit asked
for does not make a new application: it replaces the returned one's content and attachments,
keeps its 申报编号, puts its entry back to "received" for the unit's review (scores given to
the returned version are dropped: the revision is scored afresh), and the audit log keeps
what changed, before and after.
"""

from sqlmodel import Session, col, select

from models import Application, Attachment, Entry, Score
from models.forms import FIELDS
from tasks.attachments import store_file
from tasks.audit import record as audit
from tasks.intake_checks import IntakeContext, Plan

FORM_KEYS = tuple(f.key for f in FIELDS)


def returned_applications(session: Session, campaign_id: int) -> dict[str, tuple[int, str]]:
    """Applications the unit they were filed with returned to the applicant: dedup key → (id, unit)."""
    query = (select(Application.dedup_key, Application.id, Application.unit_code)
             .join(Entry, col(Entry.application_id) == Application.id)
             .where(Application.campaign_id == campaign_id, Entry.unit_code == Application.unit_code,
                    col(Entry.from_unit_code).is_(None), Entry.status == "returned"))
    return {key: (app_id, unit) for key, app_id, unit in session.exec(query).all()}


def revised_application(ctx: IntakeContext, key: str | None, unit_code: str | None) -> int | None:
    """The returned application a record revises: same project, filed again with the same unit."""
    found = ctx.returned.get(key) if key else None
    return found[0] if found is not None and found[1] == unit_code else None


def refile_application(session: Session, ctx: IntakeContext, plan: Plan, actor: str) -> Application:
    """Replace a returned application's content and attachments; its entry is received again."""
    app = session.get(Application, plan.refile)
    entry = session.exec(select(Entry).where(Entry.application_id == app.id,
                                             Entry.unit_code == app.unit_code)).one()
    old = {k: getattr(app, k) for k in FORM_KEYS} | {"direction": app.direction}
    new = {k: plan.values.get(k) for k in FORM_KEYS} | {"direction": plan.direction}
    changed = sorted(k for k in new if old[k] != new[k])
    old_files = _replace_attachments(session, app, plan)
    for key in changed:
        setattr(app, key, new[key])
    rec = plan.record
    if rec.file:
        app.source = f"{rec.file}:{rec.row}"[-500:]
    session.add(app)
    entry.direction, entry.status, entry.arrived_at = plan.direction, "received", ctx.now
    entry.review_note = entry.decision_note = entry.quota_kind = None
    entry.score = entry.rank = None
    session.add(entry)
    dropped = _drop_scores(session, entry)
    audit(session, actor=actor, action="application.refile", obj=app, at=ctx.now, campaign_id=ctx.campaign.id,
          before={"fields": {k: old[k] for k in changed}, "attachments": old_files, "scores": dropped},
          after={"reference": app.reference, "fields": {k: new[k] for k in changed},
                 "attachments": [a.sha256 for a in plan.attachments], "source": app.source})
    return app


def _drop_scores(session: Session, entry: Entry) -> list[dict]:
    """Scores given to the version returned do not count for the revision; return them for the log."""
    rows = list(session.exec(select(Score).where(Score.entry_id == entry.id)))
    for row in rows:
        session.delete(row)
    return [{"expert": r.expert_key, "criterion": r.criterion, "value": r.value} for r in rows]


def _replace_attachments(session: Session, app: Application, plan: Plan) -> list[str]:
    """Store the new files, drop the old rows, add the new ones; return the old hashes."""
    for item in plan.attachments:
        store_file(item.path, item.sha256)
    old = list(session.exec(select(Attachment).where(Attachment.application_id == app.id)))
    for row in old:
        session.delete(row)
    session.flush()
    for item in plan.attachments:
        session.add(Attachment(application_id=app.id, kind=item.kind, file_name=item.file_name,
                               size=item.size, sha256=item.sha256))
    return [row.sha256 for row in old]
