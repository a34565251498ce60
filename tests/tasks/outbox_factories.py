"""Plain factories for the outbox tests: stages, people, applications at a unit, documents."""

import hashlib
import itertools
from pathlib import Path

from sqlmodel import Session, select

from core.clock import real_now
from models import Application, Campaign, Document, Entry, Message, Person, Stage

_seq = itertools.count(1)


def campaign_row(session: Session, slug: str) -> Campaign:
    return session.exec(select(Campaign).where(Campaign.slug == slug)).one()


def stage_of(session: Session, slug: str, unit: str) -> Stage:
    campaign = campaign_row(session, slug)
    return session.exec(select(Stage).where(Stage.campaign_id == campaign.id,
                                            Stage.unit_code == unit)).one()


def person(session: Session, key: str) -> Person:
    return session.exec(select(Person).where(Person.key == key)).one()


def entry_at(session: Session, slug: str, unit: str, *, status: str = "received",
             direction: str = "experience_centre", email: str | None = "apply@example.org",
             project: str = "示例体验中心", enterprise: str = "示例科技有限公司（虚构）",
             review_note: str | None = None, decision_note: str | None = None,
             from_unit: str | None = None) -> tuple[Entry, Application]:
    """File an application with its entry at `unit` in the given state."""
    campaign = campaign_row(session, slug)
    n = next(_seq)
    app = Application(campaign_id=campaign.id, direction=direction, unit_code=from_unit or unit,
                      dedup_key=hashlib.sha256(f"{slug}{n}".encode()).hexdigest(),
                      reference=f"OB-{n:06d}", filed_at=real_now(), enterprise_name=enterprise,
                      project_name=project, contact_name="张三", contact_email=email)
    session.add(app)
    session.flush()
    entry = Entry(campaign_id=campaign.id, application_id=app.id, unit_code=unit,
                  direction=direction, arrived_at=real_now(), status=status,
                  review_note=review_note, decision_note=decision_note, from_unit_code=from_unit)
    session.add(entry)
    session.flush()
    return entry, app


def document(session: Session, stage: Stage, kind: str, path: Path, data: bytes,
             direction: str = "") -> Document:
    """Write a file and register it as a stage's document."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    doc = Document(campaign_id=stage.campaign_id, stage_id=stage.id, unit_code=stage.unit_code,
                   kind=kind, direction=direction, path=str(path),
                   sha256=hashlib.sha256(data).hexdigest(), generated_at=real_now())
    session.add(doc)
    session.flush()
    return doc


def messages(session: Session, **where) -> list[Message]:
    query = select(Message).order_by(Message.id)
    for name, value in where.items():
        query = query.where(getattr(Message, name) == value)
    return list(session.exec(query))


def by_message_id(received) -> dict[str, list]:
    """Group what the test server received by Message-ID."""
    out: dict[str, list] = {}
    for r in received:
        out.setdefault(r.message["Message-ID"], []).append(r)
    return out
