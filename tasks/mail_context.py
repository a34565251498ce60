"""Look-ups the messages need: units, people, deadlines, links; read in the caller's session."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import defer
from sqlmodel import Session, select

from core.clock import to_utc
from core.settings import get_settings
from models import Application, Campaign, Entry, Message, Person, Stage, Unit
from tasks.campaigns import campaign_config


@dataclass(frozen=True)
class Recipient:
    """Who a message goes to; `tag` names them inside the outbox key."""

    tag: str
    email: str
    name: str | None = None


def person_recipient(person: Person) -> Recipient:
    """Address a configured person (contact, official) by their key."""
    return Recipient(tag=person.key, email=person.email, name=person.name)


def applicant_recipient(application: Application) -> Recipient | None:
    """Address an application's 申报联系人; None when the form gave no e-mail."""
    if not application.contact_email:
        return None
    return Recipient(tag=f"app{application.id}", email=application.contact_email,
                     name=application.contact_name or application.enterprise_name)


def unit_row(session: Session, campaign_id: int, code: str | None) -> Unit | None:
    """Return a campaign's unit by code (None for no code)."""
    if code is None:
        return None
    return session.exec(select(Unit).where(Unit.campaign_id == campaign_id, Unit.code == code)).first()


def people(session: Session, campaign_id: int, unit_code: str, role: str) -> list[Person]:
    """Return a unit's people of one role (contact | official | expert), in key order."""
    return list(session.exec(
        select(Person).where(Person.campaign_id == campaign_id, Person.unit_code == unit_code,
                             Person.role == role).order_by(Person.key)))


def overseers(session: Session, stage: Stage) -> list[Person]:
    """Return the parent unit's contacts, or the unit's own contacts at the top of the chain."""
    unit = unit_row(session, stage.campaign_id, stage.unit_code)
    code = unit.parent_code if unit and unit.parent_code else stage.unit_code
    return people(session, stage.campaign_id, code, "contact")


def effective_deadline(unit: Unit, stage: Stage) -> datetime:
    """Return a stage's deadline: the unit's, or the extension if later."""
    deadline = to_utc(unit.deadline)
    if stage.extended_until is not None:
        deadline = max(deadline, to_utc(stage.extended_until))
    return deadline


def flow_run_url(flow_run_id: str | None) -> str | None:
    """Return the Prefect UI page of a flow run."""
    if not flow_run_id:
        return None
    return f"{get_settings().prefect_ui_url.rstrip('/')}/runs/flow-run/{flow_run_id}"


def already_queued(session: Session, key: str) -> bool:
    """Tell whether a message with this key is in the outbox."""
    return session.exec(select(Message.id).where(Message.key == key)).first() is not None


def stage_context(session: Session, stage: Stage) -> dict:
    """Return what every stage message shows: campaign, unit, parent, deadlines, directions."""
    campaign = session.get(Campaign, stage.campaign_id, options=[defer(Campaign.config)])
    unit = unit_row(session, stage.campaign_id, stage.unit_code)
    parent = unit_row(session, stage.campaign_id, unit.parent_code)
    config = campaign_config(campaign)
    return {
        "campaign": campaign, "unit": unit, "stage": stage, "parent": parent,
        "deadline": effective_deadline(unit, stage),
        "submit_by": None if parent is None else submit_deadline(session, parent),
        "directions": {key: d.name for key, d in config.directions.items()},
        "run_url": flow_run_url(stage.flow_run_id),
    }


def submit_deadline(session: Session, parent: Unit) -> datetime:
    """Return when a unit's list is due at its parent: the parent's effective deadline."""
    parent_stage = session.exec(select(Stage).where(Stage.campaign_id == parent.campaign_id,
                                                    Stage.unit_code == parent.code)).first()
    return to_utc(parent.deadline) if parent_stage is None else effective_deadline(parent, parent_stage)


def forwarded(session: Session, stage: Stage) -> list[tuple[Entry, Application]]:
    """Return the entries this stage sent to its parent, with their applications."""
    unit = unit_row(session, stage.campaign_id, stage.unit_code)
    if unit is None or unit.parent_code is None:
        return []
    query = (select(Entry, Application).join(Application, Application.id == Entry.application_id)
             .where(Entry.campaign_id == stage.campaign_id, Entry.unit_code == unit.parent_code,
                    Entry.from_unit_code == stage.unit_code)
             .order_by(Entry.direction, Entry.id))
    return [(entry, app) for entry, app in session.exec(query)]
