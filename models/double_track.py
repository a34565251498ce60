"""双轨 (double track): paper copies received per entry, online registration per application.

A unit receiving paper copies (`UnitSpec.paper_copies`) records one `PaperReceipt` per entry
standing at it (recording again replaces the count). The online system registration
(`CampaignConfig.online_system`) is the applicant's, once per application, so it is one
`OnlineRegistration` per application; a registration number belongs to one application.
"""

from datetime import date, datetime

from sqlalchemy import Column, UniqueConstraint, false
from sqlmodel import Field, SQLModel

from models.campaign import UTCDateTime


class PaperReceipt(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("entry_id"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    entry_id: int = Field(foreign_key="entry.id")
    copies: int = Field(ge=0)
    received_on: date
    received_by: str = Field(max_length=100)
    scan_received: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    recorded_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class OnlineRegistration(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("application_id"), UniqueConstraint("campaign_id", "number"))

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    application_id: int = Field(foreign_key="application.id")
    number: str = Field(max_length=64)
    registered_on: date
    recorded_by: str = Field(max_length=100)
    recorded_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
