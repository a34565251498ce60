"""Campaign configuration: one TOML file per campaign, validated by pydantic.

Everything that differs between regions or years lives in the file: directions and their
hard rules, the units and who each reports to, deadlines, quotas, the expert rubric,
reminder offsets and the wording of letters. `load_campaign(path)` returns a
`CampaignConfig` or raises `ConfigError` naming every key at fault.
"""

import tomllib
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Literal

import pendulum
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from core.campaign_errors import field_error
from core.campaign_titles import TitleRules
from core.errors import ConfigError, FieldError

Level = Literal[
    "ministry", "province", "municipality", "separately_planned_city", "corps",
    "central_enterprise", "city", "district",
]
LEVEL_NAMES: dict[str, str] = {
    "ministry": "部级", "province": "省级", "municipality": "直辖市",
    "separately_planned_city": "计划单列市", "corps": "兵团", "central_enterprise": "中央企业",
    "city": "地市级", "district": "区县级",
}
DemoCityType = Literal["comprehensive", "featured"]
DEMO_CITY_NAMES = {"comprehensive": "综合型信息消费示范城市", "featured": "特色型信息消费示范城市"}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Rule(Strict):
    """A hard eligibility rule on a numeric field of the form."""

    field: str
    min: Decimal | None = None
    max: Decimal | None = None
    zh: str
    en: str


class Direction(Strict):
    """One 方向 with its form, hard rules and text limits."""

    name: str
    form: Literal["platform", "experience_centre"]
    rules: list[Rule] = []
    text_limits: dict[str, int] = {}
    demo_city_extra: int = Field(0, ge=0)
    table_title: str | None = None
    # attachments every application of this direction must carry (附3 申报主体责任声明 by default)
    required_attachments: list[Literal["附1", "附2", "附3"]] = ["附3"]


class Criterion(Strict):
    key: str
    name: str
    weight: Decimal = Field(gt=0)
    max_score: Decimal = Field(Decimal(100), gt=0)


class Rubric(Strict):
    """Expert rubric. `example = true` marks weights that no notice gives."""

    example: bool = False
    criteria: list[Criterion] = Field(min_length=1)
    aggregation: Literal["mean", "trimmed_mean"] = "mean"
    trim_min_experts: int = Field(5, ge=3)


class Quota(Strict):
    """Quota per unit and direction. `base = -1` or absent means 可报尽报 (no limit)."""

    base: int | None = Field(None, ge=-1)
    extra: int | None = Field(None, ge=0)
    direct: int = Field(0, ge=0)
    min_score: Decimal | None = None

    @property
    def unlimited(self) -> bool:
        return self.base is None or self.base == -1


class Person(Strict):
    id: str
    name: str
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    phone: str | None = None
    title: str | None = None


class Expert(Person):
    uscc: str | None = None
    conflicts: list[str] = []


class Letter(Strict):
    """How a unit's 推荐函 is headed and signed."""

    organ: str | None = None
    abbr: str | None = None
    contact: str | None = None


class UnitSpec(Strict):
    """One unit of the chain: who it reports to, its deadline, quotas, people and letterhead."""

    code: str = Field(min_length=1, max_length=32)
    name: str
    level: Level
    parent: str | None = None
    organ: str | None = None
    office: str | None = None  # 承办处室, e.g. 信息化与软件服务业处
    address: str | None = None  # 邮寄地址 for the paper copies
    postcode: str | None = Field(None, pattern=r"^\d{6}$")
    deadline: datetime
    direct_to_ministry: bool = False
    accepts_applications: bool = True
    region: str | None = None
    review: Literal["experts", "formal"] = "experts"
    quotas: dict[str, Quota] = {}
    child_quotas: dict[str, Quota] = {}
    provincial_titles: int = Field(0, ge=0)
    # What this unit asks of the units reporting to it (their 汇总表): one table per direction
    # ([WH] 附件3/4) and the 注意事项 printed under the table ([GD] 附件).
    child_per_direction_tables: bool = False
    child_summary_notes: list[str] = []
    paper_copies: int = Field(0, ge=0)
    paper_scan_required: bool = False  # a PDF scan must come with the paper copies ([WH] 三(一))
    approval_timeout_hours: float = Field(48, gt=0)  # fractions allowed (rehearsals, tests)
    contacts: list[Person] = []
    officials: list[Person] = []
    experts: list[Expert] = []
    letter: Letter = Letter()

    @field_validator("deadline", mode="before")
    @classmethod
    def _shanghai(cls, value):
        return as_shanghai(value)

    @property
    def organ_name(self) -> str:
        return self.organ or f"{self.name}工业和信息化主管部门"


class DemoCity(Strict):
    code: str
    name: str
    type: DemoCityType


class Reminders(Strict):
    offsets: list[int] = [7, 3, 1]
    working_days: bool = False
    # Working days in a year chinese_calendar has no holiday schedule for are refused,
    # unless the campaign accepts Monday to Friday for them (fictional or far-future years).
    weekdays_beyond_calendar: bool = False
    hour: int = Field(9, ge=0, le=23)  # at most the hour the reminders-daily deployment runs


class ApprovalRules(Strict):
    """`[approval]`: how an official's approval is guarded (the whole campaign)."""

    max_failed: int = Field(5, ge=1, le=100)  # wrong ids or codes before the stage locks
    code_length: int = Field(10, ge=8, le=32)  # characters of a one-time code (32-letter alphabet)
    # a code lives code_valid_factor × max(the unit's approval_timeout_hours, code_valid_min_hours)
    code_valid_factor: float = Field(2, ge=1, le=100)
    code_valid_min_hours: float = Field(24, gt=0)


class DoubleTrackSpec(Strict):
    """双轨: what a stage checks before its list may be approved (besides unit `paper_copies`)."""

    online_registration: bool = False  # every recommended entry registered on `online_system`


class PublicitySpec(Strict):
    """The 公示 of the top unit's list before it becomes final (ASSUMPTION: no notice gives it)."""

    days: int = Field(7, ge=1, le=60)
    starts_at: datetime | None = None  # None: the 公示 starts when it is opened
    list_title: str | None = None  # None: the campaign name with 申报 replaced by 名单

    @field_validator("starts_at", mode="before")
    @classmethod
    def _shanghai(cls, value):
        return as_shanghai(value)


class Remarks(Strict):
    """The 备注 marks of the 汇总表 (and the letter's list): None where the campaign has no such rule."""

    extra: str | None = None  # a demonstration city's extra recommendation (demo_city_extra, quotas.extra)
    direct: str | None = None  # a 特色项目 sent on unranked (quotas.direct)
    title: str | None = None  # a project given the unit's own title (provincial_titles)


class CampaignConfig(Strict):
    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str
    year: int
    notice_no: str
    notice_title: str
    summary_title: str
    remarks: Remarks = Remarks()
    directions: dict[str, Direction] = Field(min_length=1)
    rubric: Rubric
    reminders: Reminders = Reminders()
    demonstration_cities: list[DemoCity] = []
    units: list[UnitSpec] = Field(min_length=1)
    letter_body: str | None = None
    online_system: str | None = None
    double_track: DoubleTrackSpec = DoubleTrackSpec()
    approval: ApprovalRules = ApprovalRules()
    publicity: PublicitySpec = PublicitySpec()
    title_rules: TitleRules = TitleRules()
    source: Path | None = None

    def unit(self, code: str) -> UnitSpec:
        return self._index()[code]

    def children(self, code: str) -> list[UnitSpec]:
        return [u for u in self.units if u.parent == code]

    def root(self) -> UnitSpec:
        return next(u for u in self.units if u.parent is None)

    def demo_city(self, code: str) -> DemoCity | None:
        return next((c for c in self.demonstration_cities if c.code == code), None)

    def _index(self) -> dict[str, UnitSpec]:
        cache = self.__dict__.get("_unit_index")
        if cache is None:
            cache = {u.code: u for u in self.units}
            object.__setattr__(self, "_unit_index", cache)
        return cache


def as_shanghai(value):
    """Read a TOML local date-time (or string) as Asia/Shanghai wall time."""
    if isinstance(value, str):
        return pendulum.parse(value, tz="Asia/Shanghai")
    if isinstance(value, datetime) and value.tzinfo is None:
        return pendulum.instance(value, tz="Asia/Shanghai")
    return value


def load_campaign(path: str | Path) -> CampaignConfig:
    """Read, validate and cross-check a campaign file; raise ConfigError on any problem."""
    from core.campaign_checks import check_campaign

    path = Path(path)
    if path.is_dir():
        path = path / "campaign.toml"
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError([FieldError("(file)", f"无法读取活动配置文件：{exc}",
                                      f"cannot read campaign file: {exc}", file=str(path))]) from exc
    return parse_campaign(raw, source=path, check=check_campaign)


def parse_campaign(raw: dict, source: Path | None = None, check=None) -> CampaignConfig:
    """Validate a campaign mapping (as read from TOML)."""
    if check is None:
        from core.campaign_checks import check_campaign as check
    file = str(source) if source else None
    try:
        config = CampaignConfig.model_validate({**raw, "source": source})
    except ValidationError as exc:
        raise ConfigError([field_error(raw, err, file) for err in exc.errors()]) from None
    problems = check(config)
    if problems:
        raise ConfigError([FieldError(key, zh, en, file=file) for key, zh, en in problems])
    return config

