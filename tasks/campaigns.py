"""Put a campaign file into the database, and read a stored campaign's configuration back."""

import hashlib
import json
import threading

from sqlalchemy.orm import defer
from sqlmodel import Session, select

from core.campaign import CampaignConfig, load_campaign
from core.clock import real_now, to_utc
from core.errors import NotFound
from models import Campaign, Person, Stage, Unit
from tasks.audit import record


def install_campaign(session: Session, config: CampaignConfig, *, actor: str = "coordinator") -> Campaign:
    """Create or update a campaign, its units, people and stages from a validated config."""
    data = config.model_dump(mode="json", exclude={"source"})
    sha = hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    campaign = session.exec(select(Campaign).where(Campaign.slug == config.slug)).first()
    now = real_now()
    if campaign is None:
        campaign = Campaign(slug=config.slug, name=config.name, year=config.year, config=data,
                            config_sha256=sha, loaded_at=now)
    elif campaign.config_sha256 == sha:
        return campaign
    before = None if campaign.id is None else {"config_sha256": campaign.config_sha256}
    campaign.name, campaign.year, campaign.config, campaign.config_sha256 = config.name, config.year, data, sha
    campaign.loaded_at = now
    session.add(campaign)
    session.flush()
    _sync_units(session, campaign, config)
    _sync_people(session, campaign, config)
    record(session, actor=actor, action="campaign.load", obj=campaign, at=now,
           before=before, after={"config_sha256": sha, "units": len(config.units)},
           campaign_id=campaign.id)
    return campaign


def _sync_units(session: Session, campaign: Campaign, config: CampaignConfig) -> None:
    existing = {u.code: u for u in session.exec(select(Unit).where(Unit.campaign_id == campaign.id))}
    stages = {s.unit_code for s in session.exec(select(Stage).where(Stage.campaign_id == campaign.id))}
    for spec in config.units:
        path = unit_path(config, spec.code)
        unit = existing.get(spec.code) or Unit(campaign_id=campaign.id, code=spec.code)
        demo = config.demo_city(spec.code)
        unit.sqlmodel_update({
            "name": spec.name, "level": spec.level, "parent_code": spec.parent,
            "path": "/".join(path), "depth": len(path) - 1,
            "demo_city": demo.type if demo else None,
            "direct_to_ministry": spec.direct_to_ministry,
            "accepts_applications": spec.accepts_applications,
            "deadline": to_utc(spec.deadline),
        })
        session.add(unit)
        if spec.code not in stages:
            session.add(Stage(campaign_id=campaign.id, unit_code=spec.code))


def _sync_people(session: Session, campaign: Campaign, config: CampaignConfig) -> None:
    existing = {p.key: p for p in session.exec(select(Person).where(Person.campaign_id == campaign.id))}
    for spec in config.units:
        for role, people in (("contact", spec.contacts), ("official", spec.officials),
                             ("expert", spec.experts)):
            for p in people:
                person = existing.get(p.id) or Person(campaign_id=campaign.id, key=p.id)
                person.sqlmodel_update({"unit_code": spec.code, "role": role, "name": p.name,
                                        "title": p.title, "email": p.email, "phone": p.phone})
                session.add(person)


def unit_path(config: CampaignConfig, code: str) -> list[str]:
    """Return the codes from the top unit down to `code`."""
    path = [code]
    while (parent := config.unit(path[-1]).parent) is not None:
        path.append(parent)
    return path[::-1]


def load_and_install(session: Session, path, *, actor: str = "coordinator") -> Campaign:
    """Validate a campaign file and install it."""
    return install_campaign(session, load_campaign(path), actor=actor)


def get_campaign(session: Session, slug: str) -> Campaign:
    """Return a stored campaign by slug, or raise NotFound (its configuration JSON loads on first use)."""
    query = select(Campaign).options(defer(Campaign.config)).where(Campaign.slug == slug)
    campaign = session.exec(query).first()
    if campaign is None:
        raise NotFound(f"未找到活动 {slug}", f"no campaign {slug}")
    return campaign


def campaign_config(campaign: Campaign) -> CampaignConfig:
    """Return the validated configuration stored with a campaign (parsed once per version).

    A version is its `config_sha256`; the JSON column is read only when that version is not
    parsed yet (a national campaign's configuration is megabytes of JSON).
    """
    config = _PARSED.get(campaign.config_sha256)
    if config is None:
        config = CampaignConfig.model_validate(campaign.config)
        with _PARSED_LOCK:
            if len(_PARSED) >= _PARSED_MAX:
                _PARSED.pop(next(iter(_PARSED)))
            _PARSED[campaign.config_sha256] = config
    return config


_PARSED: dict[str, CampaignConfig] = {}  # config_sha256 -> parsed configuration, oldest first
_PARSED_LOCK = threading.Lock()
_PARSED_MAX = 16
