"""An application's entry at one unit: what it received, how it was judged, what was decided.

`UNIQUE(application_id, unit_code)` is the exactly-once guarantee of forwarding: an
application can stand at each unit at most once, however often a stage is re-run.
"""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.campaign import UTCDateTime

ENTRY_STATES = ("received", "eligible", "ineligible", "returned", "selected", "not_selected")
QUOTA_KINDS = ("base", "extra", "direct")


class Entry(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("application_id", "unit_code"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    application_id: int = Field(foreign_key="application.id", index=True)
    unit_code: str = Field(max_length=32, index=True)
    direction: str = Field(max_length=32)
    from_unit_code: str | None = Field(default=None, max_length=32)  # None: filed directly
    source_entry_id: int | None = Field(default=None, foreign_key="entry.id")
    # Demonstration-city extras and special direct recommendations pass upward unranked,
    # uncounted by the units above; origin_unit_code is the city whose allowance they use.
    passthrough: str | None = Field(default=None, max_length=16)  # extra | direct
    origin_unit_code: str | None = Field(default=None, max_length=32)
    arrived_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    status: str = Field(default="received", max_length=16, index=True)
    review_note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    score: Decimal | None = Field(default=None, max_digits=10, decimal_places=4)
    rank: int | None = None
    quota_kind: str | None = Field(default=None, max_length=16)  # base | extra | direct
    provincial_title: bool = False
    decision_note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
