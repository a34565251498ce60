"""What a stage's documents show: the unit, its recommended entries in order, and their 备注.

`load_stage_data(session, stage_id)` reads everything once; the rest are pure functions
(recommended order, remarks, counts) tested directly.
"""

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import defer
from sqlmodel import Session, select

from core.campaign import CampaignConfig, Remarks, UnitSpec
from core.clock import campaign_now
from core.errors import NotFound
from models import Application, Campaign, Entry, Stage
from tasks.campaigns import campaign_config

STATUS_NAMES = {
    "received": "已接收", "eligible": "形式审查通过", "ineligible": "不符合申报条件",
    "returned": "退回修改", "selected": "推荐", "not_selected": "未推荐",
}
KIND_NAMES = {"base": "推荐名额", "extra": "示范城市额外推荐", "direct": "特色项目直报"}


@dataclass(frozen=True)
class Row:
    """One entry at the unit with the application it stands for."""

    entry: Entry
    app: Application


@dataclass
class StageData:
    """Everything the documents of one stage are made from."""

    campaign: Campaign
    config: CampaignConfig
    stage: Stage
    unit: UnitSpec
    rows: list[Row] = field(default_factory=list)

    @property
    def when(self) -> datetime:
        """The instant the documents are dated: the approval, else the campaign's now."""
        return self.stage.approved_at or campaign_now(self.campaign.clock)

    @property
    def parent(self) -> UnitSpec | None:
        return self.config.unit(self.unit.parent) if self.unit.parent else None

    def unit_name(self, code: str | None) -> str:
        """Return a unit's name from the campaign, or the code itself when unknown."""
        if code is None:
            return ""
        try:
            return self.config.unit(code).name
        except KeyError:
            return code

    def recommended(self, direction: str | None = None) -> list[Row]:
        """Return the selected rows (of one direction, or all) in recommended order."""
        rows = [r for r in self.rows if r.entry.status == "selected"
                and (direction is None or r.entry.direction == direction)]
        return recommended_order(rows)


def load_stage_data(session: Session, stage_id: int) -> StageData:
    """Read a stage, its unit's configuration and every entry at the unit with its application."""
    stage = session.get(Stage, stage_id)
    if stage is None:
        raise NotFound(f"未找到阶段 {stage_id}", f"no stage {stage_id}")
    campaign = session.get(Campaign, stage.campaign_id, options=[defer(Campaign.config)])
    config = campaign_config(campaign)
    query = (select(Entry, Application).join(Application, Application.id == Entry.application_id)
             .where(Entry.campaign_id == stage.campaign_id, Entry.unit_code == stage.unit_code)
             .order_by(Entry.id))
    rows = [Row(entry, app) for entry, app in session.exec(query)]
    return StageData(campaign, config, stage, config.unit(stage.unit_code), rows)


def order_key(row: Row) -> tuple:
    """Ranked entries by rank; then unranked ones (passthrough) by origin unit and reference."""
    e = row.entry
    return (e.rank is None, e.rank or 0, e.origin_unit_code or "", row.app.reference, e.id)


def recommended_order(rows: list[Row]) -> list[Row]:
    """Sort rows in the order the unit recommends them."""
    return sorted(rows, key=order_key)


def entry_marks(entry: Entry, remarks: Remarks) -> tuple[str | None, str | None]:
    """The campaign's marks for an entry: (extra or direct mark, title mark), None where unmarked."""
    kind = entry.passthrough or entry.quota_kind
    quota_mark = {"extra": remarks.extra, "direct": remarks.direct}.get(kind or "")
    return quota_mark, remarks.title if entry.provincial_title else None


def remark(entry: Entry, remarks: Remarks, origin_name: str = "") -> str:
    """The 备注 of a recommended entry: extra / direct recommendation, the unit's title."""
    quota_mark, title_mark = entry_marks(entry, remarks)
    where = f"（{origin_name}）" if entry.passthrough and origin_name else ""
    marks = [quota_mark + where] if quota_mark else []
    return "；".join(marks + ([title_mark] if title_mark else []))


def contact_line(app: Application) -> str:
    """项目联系人及电话: the form's contact, else the project leader."""
    name = app.contact_name or app.leader_name or ""
    phone = app.contact_mobile or app.leader_mobile or ""
    return " ".join(p for p in (name.strip(), phone.strip()) if p)


@dataclass(frozen=True)
class DirectionCount:
    """How many entries a unit recommends in one direction, and of which kinds."""

    key: str
    name: str
    total: int
    extra: int
    direct: int
    titles: int


def direction_counts(data: StageData) -> list[DirectionCount]:
    """Count the recommended entries per direction of the campaign, in the campaign's order."""
    out = []
    for key, direction in data.config.directions.items():
        rows = data.recommended(key)
        kinds = [r.entry.passthrough or r.entry.quota_kind for r in rows]
        out.append(DirectionCount(key, direction.name, len(rows), kinds.count("extra"),
                                  kinds.count("direct"), sum(r.entry.provincial_title for r in rows)))
    return out
