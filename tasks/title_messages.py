"""Tell the recommending unit's contacts and the applicant about a title event (outbox, same transaction)."""

from sqlmodel import Session

from models import Application, Campaign, Entry, Message, TitleEvent
from tasks.campaigns import campaign_config
from tasks.mail_context import applicant_recipient, people, person_recipient, unit_row
from tasks.mail_templates import render
from tasks.outbox import enqueue
from tasks.title_events import EVENT_NAMES


def recommender_code(entry: Entry) -> str:
    """The unit that recommended an entry to the top unit (the top unit itself if filed there)."""
    return entry.from_unit_code or entry.unit_code


def queue_title_event(session: Session, event: TitleEvent) -> list[Message]:
    """Queue the event's notice to the recommending unit's contacts and the applicant (once each)."""
    entry = session.get(Entry, event.entry_id)
    application = session.get(Application, entry.application_id)
    campaign = session.get(Campaign, entry.campaign_id)
    config = campaign_config(campaign)
    unit = unit_row(session, campaign.id, recommender_code(entry))
    origin = f"（{config.unit(entry.origin_unit_code).name}）" if entry.origin_unit_code else ""
    zh, en = EVENT_NAMES[event.kind]
    detail = config.title_rules.name(event.detail)
    context = {"campaign": campaign, "entry": entry, "application": application, "event": event,
               "event_zh": zh, "event_en": en, "detail_zh": detail[0], "detail_en": detail[1],
               "recommender": f"{unit.name}{origin}", "root": config.root(),
               "directions": {k: d.name for k, d in config.directions.items()}}
    recipients = [person_recipient(p) for p in people(session, campaign.id, unit.code, "contact")]
    recipients += [r for r in [applicant_recipient(application)] if r is not None]
    queued = []
    for to in recipients:
        rendered = render("title_event", recipient=to, **context)
        message = enqueue(session, key=f"title:{event.key}:{to.tag}", kind="title_event",
                          recipient=to.email, recipient_name=to.name, subject=rendered.subject,
                          body_text=rendered.text, body_html=rendered.html, campaign_id=campaign.id)
        if message is not None:
            queued.append(message)
    return queued
