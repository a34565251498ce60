"""File applications: read an intake file, check every rule, then write it in ONE transaction.

Nothing is written unless every record of the file passes every check; all problems are
reported together (`ValidationFailed`, one FieldError per problem with file, row, field).
Filing writes the `Application`, its `Attachment` rows (content copied into the store
first), an `Entry` at the receiving unit (status received) and an audit row. A record that
revises an application the unit returned to the applicant (退回修改) updates that application
instead, under the same 申报编号 (`tasks/intake_refile.py`).
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from core.clock import campaign_now, to_utc
from core.db import session_scope
from core.errors import FieldError, NotFound, ValidationFailed
from models import Application, Attachment, Campaign, Entry, Stage, Unit
from tasks.attachments import store_file
from tasks.audit import record as audit
from tasks.campaigns import campaign_config, get_campaign
from tasks.form_values import printable
from tasks.intake_checks import (
    IntakeContext,
    Plan,
    check_attachments,
    check_region,
    check_unit,
    duplicate_problems,
    required_attachments,
    resolve_direction,
    unit_code_of,
)
from tasks.intake_read import read_intake
from tasks.intake_records import IntakeRecord, record_from_mapping
from tasks.intake_refile import refile_application, returned_applications, revised_application
from tasks.validation import dedup_key, parse_application

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}$")
ATTEMPTS = 3


@dataclass(frozen=True)
class FiledApplication:
    """What the applicant is told about one filed application."""

    reference: str
    enterprise: str
    project: str
    unit_code: str
    unit_name: str
    direction: str
    direction_name: str


@dataclass
class IntakeResult:
    """The outcome of one intake file: all of it filed, or none of it and the problems."""

    path: Path
    filed: list[FiledApplication] = field(default_factory=list)
    errors: list[FieldError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether the whole file was filed."""
        return not self.errors


def intake_file(path: Path, *, campaign_slug: str | None = None, actor: str = "intake") -> IntakeResult:
    """Read, check and file one intake file in its own transaction (all or nothing)."""
    path = Path(path)
    try:
        records = read_intake(path)
        for _ in range(ATTEMPTS - 1):
            try:
                return IntakeResult(path, filed=_file_once(records, campaign_slug, actor))
            except IntegrityError:
                continue  # a concurrent intake took the reference or filed the same project: check again
        return IntakeResult(path, filed=_file_once(records, campaign_slug, actor))
    except ValidationFailed as exc:
        return IntakeResult(path, errors=exc.errors)


def _file_once(records: list[IntakeRecord], campaign_slug: str | None, actor: str) -> list[FiledApplication]:
    with session_scope() as session:
        apps = file_applications(session, records, campaign_slug=campaign_slug, actor=actor)
        return summarise(session, apps)


def file_applications(session: Session, records: Sequence[IntakeRecord | Mapping], *,
                      campaign_slug: str | None, now: datetime | None = None,
                      actor: str = "intake", base_dir: Path | None = None) -> list[Application]:
    """Check every record, then write them all in the caller's transaction; raise ValidationFailed."""
    records = [r if isinstance(r, IntakeRecord)
               else record_from_mapping(r, file=None, row=i, base_dir=base_dir or Path.cwd())
               for i, r in enumerate(records, start=1)]
    if not records:
        raise ValidationFailed([FieldError("(file)", "没有申报", "no application given")])
    ctx = load_context(session, records, campaign_slug, now)
    plans, errors = check_records(session, records, ctx)
    if errors:
        raise ValidationFailed(errors, zh="申报材料有误，本文件的申报一件也未受理",
                               en="the applications have errors; nothing from this file was filed")
    references = iter(next_references(session, ctx, [p for p in plans if p.refile is None]))
    return [refile_application(session, ctx, plan, actor) if plan.refile is not None
            else write_application(session, ctx, plan, next(references), actor) for plan in plans]


def load_context(session: Session, records: list[IntakeRecord], slug: str | None,
                 now: datetime | None) -> IntakeContext:
    """Find the campaign the records are filed in and load its units and stages."""
    campaign, errors = _find_campaign(session, records, slug)
    if campaign is None or errors:
        raise ValidationFailed(errors, zh="申报活动有误", en="campaign problem")
    units = {u.code: u for u in session.exec(select(Unit).where(Unit.campaign_id == campaign.id))}
    stages = {s.unit_code: s for s in session.exec(select(Stage).where(Stage.campaign_id == campaign.id))}
    moment = to_utc(now) if now is not None else campaign_now(campaign.clock)
    return IntakeContext(campaign, campaign_config(campaign), units, stages, moment,
                         returned=returned_applications(session, campaign.id))


def _find_campaign(session: Session, records: list[IntakeRecord], slug: str | None) -> tuple[Campaign | None, list]:
    named = [r for r in records if r.campaign not in (None, "")]
    wanted = slug or (named[0].campaign if named else None)
    if wanted is None:
        campaigns = session.exec(select(Campaign)).all()
        if len(campaigns) == 1:
            return campaigns[0], []
        return None, [FieldError("campaign", "未指明申报活动，请在文件中填写 campaign 或使用 --campaign",
                                 "no campaign named: give `campaign` in the file or --campaign",
                                 file=records[0].file)]
    errors = [r.error("campaign", "与本次申报活动不一致", f"differs from the campaign {printable(wanted, 100)}")
              for r in named if r.campaign != wanted]
    campaign = None
    if isinstance(wanted, str) and SLUG.match(wanted):
        campaign = session.exec(select(Campaign).where(Campaign.slug == wanted)).first()
    if campaign is None:
        errors.append(FieldError("campaign", f"未知的申报活动 {printable(wanted, 100)}", "unknown campaign",
                                 file=records[0].file))
    return campaign, errors


def choose_campaign(session: Session, slug: str | None) -> Campaign:
    """Return the named campaign, or the only one loaded; raise NotFound otherwise."""
    if slug is not None:
        return get_campaign(session, slug)
    campaigns = session.exec(select(Campaign)).all()
    if len(campaigns) != 1:
        names = ", ".join(c.slug for c in campaigns) or "—"
        raise NotFound(f"请用 --campaign 指明申报活动（已载入：{names}）",
                       f"name the campaign with --campaign (loaded: {names})")
    return campaigns[0]


def check_records(session: Session, records: list[IntakeRecord],
                  ctx: IntakeContext) -> tuple[list[Plan], list[FieldError]]:
    """Apply every rule to every record; return the plans and all problems found."""
    plans = [check_record(rec, ctx) for rec in records]
    keys = [p.dedup_key for p in plans if p.dedup_key is not None]
    query = select(Application.dedup_key, Application.reference).where(
        Application.campaign_id == ctx.campaign.id, Application.dedup_key.in_(keys))
    filed = dict(session.exec(query).all()) if keys else {}
    errors = [e for p in plans for e in p.errors] + duplicate_problems(plans, filed)
    return [p for p in plans if not p.errors], errors


def check_record(rec: IntakeRecord, ctx: IntakeContext) -> Plan:
    """Apply every rule to one record; return its plan, carrying the problems found."""
    direction = resolve_direction(ctx.config, rec.direction)
    values, form_errors = parse_application(rec.values, config=ctx.config, direction=direction)
    errors = [*rec.problems, *(replace(e, file=rec.file, row=rec.row) for e in form_errors)]
    key = dedup_key(values["uscc"], values["project_name"]) if {"uscc", "project_name"} <= values.keys() else None
    refile = revised_application(ctx, key, unit_code_of(rec.unit))
    code, unit_errors = check_unit(rec, ctx, refile=refile is not None)
    errors += unit_errors
    if code is not None:
        errors += check_region(rec, ctx.config, code, values.get("uscc"))
    attachments, attachment_errors = check_attachments(rec, required_attachments(ctx.config, direction))
    errors += attachment_errors
    return Plan(rec, values, str(direction), code or "", key, attachments, errors, refile=refile)


def next_references(session: Session, ctx: IntakeContext, plans: list[Plan]) -> list[str]:
    """Return a new 申报编号 `<year>-<unit>-<6 digits>` for each plan, continuing each unit's series."""
    counters: dict[str, int] = {}
    out = []
    for plan in plans:
        prefix = f"{ctx.config.year}-{plan.unit_code[:20]}-"
        if prefix not in counters:
            taken = session.exec(select(Application.reference).where(
                Application.reference.startswith(prefix, autoescape=True))).all()
            tails = [int(t[len(prefix):]) for t in taken if t[len(prefix):].isdigit()]
            counters[prefix] = max(tails, default=0)
        counters[prefix] += 1
        out.append(f"{prefix}{counters[prefix]:06d}")
    return out


def write_application(session: Session, ctx: IntakeContext, plan: Plan, reference: str, actor: str) -> Application:
    """Write one checked application: attachments stored, rows added, entry created, audited."""
    for item in plan.attachments:
        store_file(item.path, item.sha256)
    rec = plan.record
    source = f"{rec.file}:{rec.row}" if rec.file else None
    app = Application(**plan.values, campaign_id=ctx.campaign.id, direction=plan.direction,
                      unit_code=plan.unit_code, dedup_key=plan.dedup_key, reference=reference,
                      filed_at=ctx.now, source=source[-500:] if source else None)
    session.add(app)
    session.flush()
    for item in plan.attachments:
        session.add(Attachment(application_id=app.id, kind=item.kind, file_name=item.file_name,
                               size=item.size, sha256=item.sha256))
    session.add(Entry(campaign_id=ctx.campaign.id, application_id=app.id, unit_code=plan.unit_code,
                      direction=plan.direction, from_unit_code=None, arrived_at=ctx.now, status="received"))
    audit(session, actor=actor, action="application.file", obj=app, at=ctx.now, campaign_id=ctx.campaign.id,
          after={"reference": reference, "unit": plan.unit_code, "direction": plan.direction,
                 "enterprise": app.enterprise_name, "project": app.project_name, "uscc": app.uscc,
                 "attachments": [a.sha256 for a in plan.attachments], "source": source})
    return app


def summarise(session: Session, apps: list[Application]) -> list[FiledApplication]:
    """Describe filed applications for the person who filed them."""
    if not apps:
        return []
    campaign = session.get(Campaign, apps[0].campaign_id)
    config = campaign_config(campaign)
    return [FiledApplication(a.reference, a.enterprise_name or "", a.project_name or "", a.unit_code,
                             config.unit(a.unit_code).name, a.direction, config.directions[a.direction].name)
            for a in apps]
