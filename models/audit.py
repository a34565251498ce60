"""The append-only audit log: who did what, when, with before/after, hash-chained.

Each row's `hash` covers its content and the previous row's hash, so an edited or deleted
row breaks the chain (`tasks.audit.verify_chain`); the database also refuses UPDATE and
DELETE on this table (triggers created by the migration).
"""

from datetime import datetime

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from models.campaign import UTCDateTime


class AuditLog(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    # the machine's own clock when the row was written (``at`` is the campaign's clock,
    # which a rehearsal may move); null on rows written before migration 0003
    recorded_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    campaign_id: int | None = Field(default=None, index=True)
    actor: str = Field(max_length=100)
    action: str = Field(max_length=64, index=True)
    object_type: str = Field(max_length=32)
    object_id: str = Field(max_length=64, index=True)
    before: dict | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    after: dict | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    seq: int = Field(unique=True)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64, unique=True)


class AuditHead(SQLModel, table=True):
    """The single row holding the chain's newest hash; updating it serialises writers."""

    id: int = Field(default=1, primary_key=True)
    seq: int = 0
    hash: str = Field(default="0" * 64, max_length=64)
