"""An application (申报书) as filed, and its attachments (content-addressed on disk).

Columns mirror `models.forms.FIELDS` one for one; `tests/models` pins that they match.
"""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.campaign import UTCDateTime
from models.honours import HonoursJSON


class Application(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("campaign_id", "dedup_key"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    direction: str = Field(max_length=32)
    unit_code: str = Field(max_length=32, index=True)  # the unit it was filed to
    dedup_key: str = Field(max_length=64)  # sha256 of normalised USCC + project name
    reference: str = Field(max_length=32, unique=True)  # 申报编号 shown to applicants
    filed_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    source: str | None = Field(default=None, max_length=500)
    enterprise_name: str | None = Field(default=None, max_length=200)  # 单位名称
    contact_name: str | None = Field(default=None, max_length=200)  # 申报联系人姓名
    contact_title: str | None = Field(default=None, max_length=200)  # 申报联系人职务
    contact_mobile: str | None = Field(default=None, max_length=200)  # 申报联系人手机
    contact_fax: str | None = Field(default=None, max_length=200)  # 申报联系人传真
    contact_email: str | None = Field(default=None, max_length=200)  # 申报联系人邮箱
    registered_capital: Decimal | None = Field(default=None, max_digits=20, decimal_places=4)  # 注册资本（万元）
    legal_representative: str | None = Field(default=None, max_length=200)  # 法定代表人
    registered_address: str | None = Field(default=None, max_length=200)  # 单位注册地址
    office_address: str | None = Field(default=None, max_length=200)  # 单位办公地址
    uscc: str | None = Field(default=None, max_length=200)  # 统一社会信用代码
    ownership: str | None = Field(default=None, max_length=200)  # 单位性质
    ownership_other: str | None = Field(default=None, max_length=200)  # 单位性质（其他，请注明）
    listed: bool | None = None  # 是否上市公司
    listing_date: date | None = None  # 上市时间
    listing_place: str | None = Field(default=None, max_length=200)  # 上市地点
    stock_code: str | None = Field(default=None, max_length=200)  # 股票代码
    exports: bool | None = None  # 是否有业务出口
    export_destinations: str | None = Field(default=None, max_length=200)  # 主要出口地点
    honours: dict | None = Field(default=None, sa_column=Column(HonoursJSON, nullable=True))  # 相关荣誉 (parts)
    rd_capability: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # 研发能力
    main_revenue: Decimal | None = Field(default=None, max_digits=20, decimal_places=4)  # 主营业务收入（万元）
    rd_investment: Decimal | None = Field(default=None, max_digits=20, decimal_places=4)  # 研发投入（万元）
    info_revenue: Decimal | None = Field(default=None, max_digits=20, decimal_places=4)  # 信息消费相关业务收入（万元）
    rd_staff: int | None = Field(default=None, sa_type=BigInteger)  # 研发人员规模
    is_software_enterprise: bool | None = None  # 是否软件业企业
    software_product_revenue: Decimal | None = Field(default=None, max_digits=20, decimal_places=4)  # 软件产品收入总额（万元）
    it_service_revenue: Decimal | None = Field(default=None, max_digits=20, decimal_places=4)  # 信息技术服务收入总额（万元）
    embedded_revenue: Decimal | None = Field(default=None, max_digits=20, decimal_places=4)  # 嵌入式系统软件收入总额（万元）
    profile: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # 申报单位简介
    project_name: str | None = Field(default=None, max_length=200)  # 项目名称（平台名称/体验中心名称）
    launch_date: date | None = None  # 平台上线运营日期
    registered_users: Decimal | None = Field(default=None, max_digits=20, decimal_places=4)  # 用户注册规模（亿）
    mau: Decimal | None = Field(default=None, max_digits=20, decimal_places=4)  # 上一年度平均月活用户数量（亿）
    centre_address: str | None = Field(default=None, max_length=200)  # 体验中心地址
    area: Decimal | None = Field(default=None, max_digits=20, decimal_places=4)  # 体验中心面积（平方米）
    monthly_visitors: int | None = Field(default=None, sa_type=BigInteger)  # 月均人流量（人次）
    construction_start: date | None = None  # 建设开始日期
    construction_end: date | None = None  # 建设结束日期
    investment: Decimal | None = Field(default=None, max_digits=20, decimal_places=4)  # 项目投资（万元）
    leader_name: str | None = Field(default=None, max_length=200)  # 项目负责人姓名
    leader_title: str | None = Field(default=None, max_length=200)  # 项目负责人职务
    leader_mobile: str | None = Field(default=None, max_length=200)  # 项目负责人手机
    leader_email: str | None = Field(default=None, max_length=200)  # 项目负责人邮箱
    overview: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # 项目概述（平台概述/体验中心概述）
    sec_qualification: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # 项目承担方资质与能力
    sec_plan: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # 项目实施方案
    sec_collaboration: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # 产学研用联合协作情况
    sec_team: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # 项目负责人与项目团队实力
    sec_innovation: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # 项目实施的创新性
    sec_replicability: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # 项目的可推广性
    sec_scenarios: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # 项目实施主体、服务对象及适用场景
    sec_progress: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # 项目实施情况
    sec_next_steps: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # 下一步实施计划


class Attachment(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("application_id", "kind", "file_name"),)

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="application.id", index=True)
    kind: str = Field(max_length=8)  # 附1 | 附2 | 附3
    file_name: str = Field(max_length=255)
    size: int = Field(sa_type=BigInteger)
    sha256: str = Field(max_length=64, index=True)
