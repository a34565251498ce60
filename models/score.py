"""Expert scores, one row per expert, entry and criterion; and declared conflicts of interest."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.campaign import UTCDateTime


class Score(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("entry_id", "expert_key", "criterion"),)

    id: int | None = Field(default=None, primary_key=True)
    entry_id: int = Field(foreign_key="entry.id", index=True)
    expert_key: str = Field(max_length=64)
    criterion: str = Field(max_length=64)
    value: Decimal = Field(max_digits=10, decimal_places=4)
    source: str = Field(max_length=16)  # input | sheet
    recorded_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class ConflictOfInterest(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("entry_id", "expert_key"),)

    id: int | None = Field(default=None, primary_key=True)
    entry_id: int = Field(foreign_key="entry.id", index=True)
    expert_key: str = Field(max_length=64)
    reason: str = Field(max_length=500)
