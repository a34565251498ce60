"""The outbox: every e-mail is a row written in the same transaction as its cause.

`key` (stage + kind + recipient + offset) is unique, so a re-run cannot queue a message
twice; delivery marks rows sent and de-duplicates by the deterministic Message-ID.
"""

from datetime import datetime

from sqlalchemy import JSON, Column, Text
from sqlmodel import Field, SQLModel

from models.campaign import UTCDateTime

MESSAGE_STATES = ("pending", "sending", "sent", "failed")


class Message(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=300, unique=True)
    campaign_id: int | None = Field(default=None, index=True)
    kind: str = Field(max_length=32, index=True)
    recipient: str = Field(max_length=200)
    recipient_name: str | None = Field(default=None, max_length=100)
    subject: str = Field(max_length=500)
    body_text: str = Field(sa_column=Column(Text, nullable=False))
    body_html: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    attachments: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="pending", max_length=16, index=True)
    attempts: int = 0
    next_attempt_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    smtp_response: str | None = Field(default=None, max_length=500)
    message_id: str = Field(max_length=200)
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
