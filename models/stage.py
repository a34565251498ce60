"""A stage: one unit's turn in the chain, its state and the approval codes issued for it."""

from datetime import datetime

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.campaign import UTCDateTime

STAGE_STATES = ("open", "collecting", "reviewing", "scoring", "awaiting_approval",
                "approved", "forwarded", "closed")
STATE_NAMES = {
    "open": "未开始", "collecting": "汇总中", "reviewing": "形式审查", "scoring": "专家评审",
    "awaiting_approval": "待审批", "approved": "已审批", "forwarded": "已报送", "closed": "已完成",
}


class Stage(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("campaign_id", "unit_code"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    unit_code: str = Field(max_length=32)
    state: str = Field(default="open", max_length=24, index=True)
    round: int = 0  # approval round; a rejection or refused input starts the next
    extended_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    flow_run_id: str | None = Field(default=None, max_length=64)
    proposal: list | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    approved_by: str | None = Field(default=None, max_length=64)
    approved_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    awaiting_since: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    escalated_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    failed_attempts: int = 0
    inputs_seen: int = 0  # inputs processed so far; part of every wait key
    locked: bool = False
    started_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    closed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))


class ApprovalCode(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("stage_id", "official_key", "round"),)

    id: int | None = Field(default=None, primary_key=True)
    stage_id: int = Field(foreign_key="stage.id", index=True)
    official_key: str = Field(max_length=64)
    round: int
    code_hash: str = Field(max_length=128)
    issued_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
