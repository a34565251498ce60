"""A campaign as loaded from its file, its units and the people of each unit."""

from datetime import datetime

from sqlalchemy import JSON, Column, DateTime, UniqueConstraint
from sqlmodel import Field, SQLModel

UTCDateTime = DateTime(timezone=True)


class Campaign(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(index=True, unique=True, max_length=100)
    name: str = Field(max_length=200)
    year: int
    config: dict = Field(sa_column=Column(JSON, nullable=False))
    config_sha256: str = Field(max_length=64)
    clock: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    loaded_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class Unit(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("campaign_id", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    code: str = Field(max_length=32)
    name: str = Field(max_length=200)
    level: str = Field(max_length=32)
    parent_code: str | None = Field(default=None, max_length=32, index=True)
    path: str = Field(max_length=400)
    depth: int
    demo_city: str | None = Field(default=None, max_length=32)
    direct_to_ministry: bool = False
    accepts_applications: bool = True
    deadline: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class Person(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("campaign_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    unit_code: str = Field(max_length=32, index=True)
    key: str = Field(max_length=64)
    role: str = Field(max_length=16)  # contact | official | expert
    name: str = Field(max_length=100)
    title: str | None = Field(default=None, max_length=100)
    email: str = Field(max_length=200)
    phone: str | None = Field(default=None, max_length=50)
