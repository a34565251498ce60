"""Generated documents (汇总表, 推荐函, exports) and the 发文字号 sequence per unit."""

from datetime import datetime

from sqlalchemy import Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.campaign import UTCDateTime


class Document(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("stage_id", "kind", "direction"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    stage_id: int = Field(foreign_key="stage.id", index=True)
    unit_code: str = Field(max_length=32)
    kind: str = Field(max_length=32)  # summary | letter | export | final_list
    direction: str = Field(default="", max_length=32)  # "" when the document covers all
    path: str = Field(max_length=500)
    sha256: str = Field(max_length=64)
    generated_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class LetterNumber(SQLModel, table=True):
    """发文字号 `<机关代字>〔year〕N号`: N never repeats for a unit and year."""

    __table_args__ = (
        UniqueConstraint("campaign_id", "unit_code", "year", "number"),
        UniqueConstraint("stage_id"),
        # the sequence runs per unit and year, whatever the campaign
        Index("uq_letternumber_unit_year_number", "unit_code", "year", "number", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id")
    unit_code: str = Field(max_length=32)
    year: int
    number: int
    stage_id: int = Field(foreign_key="stage.id")
    text: str = Field(max_length=100)
