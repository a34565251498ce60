"""After the top unit's stage: the 公示 (public notice), objections, and the title's history.

`Publicity` is one per campaign (open → closed). An `Objection` is lodged against an entry
of the top unit while the 公示 is open and resolved as upheld (the entry leaves the list) or
dismissed. `TitleEvent` is the final list's history, one row per event, append-only in
practice; `key` makes each event happen once (awarded / removed / revoked once per entry).
"""

from datetime import datetime

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.campaign import UTCDateTime

PUBLICITY_STATES = ("open", "closed")
OBJECTION_STATES = ("pending", "upheld", "dismissed")
TITLE_EVENTS = ("awarded", "removed_after_objection", "objection_dismissed", "change_reported", "revoked")


class Publicity(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("campaign_id"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id")
    stage_id: int = Field(foreign_key="stage.id")  # the top unit's stage
    starts_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    ends_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    state: str = Field(default="open", max_length=16)
    opened_by: str = Field(max_length=100)
    closed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))


class Objection(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    publicity_id: int = Field(foreign_key="publicity.id", index=True)
    entry_id: int = Field(foreign_key="entry.id", index=True)
    lodged_by: str = Field(max_length=200)
    text: str = Field(sa_column=Column(Text, nullable=False))
    lodged_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    state: str = Field(default="pending", max_length=16, index=True)
    resolution: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    resolved_by: str | None = Field(default=None, max_length=100)
    resolved_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))


class TitleEvent(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200, unique=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    entry_id: int = Field(foreign_key="entry.id", index=True)
    kind: str = Field(max_length=32)  # one of TITLE_EVENTS
    detail: str | None = Field(default=None, max_length=32)  # merger | inspection_failed | ...
    reason: str = Field(sa_column=Column(Text, nullable=False))
    actor: str = Field(max_length=100)
    at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
