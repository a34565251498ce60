"""The chain's table per level (the demo's final table), on a variant of the mini campaign."""

from sqlmodel import select

from core.db import session_scope
from models import Entry
from tasks.chain import level_rows
from tests.conftest import MINI_CAMPAIGN
from tests.support.databases import install
from tests.support.factories import file_application

CENTRE, PLATFORM = "experience_centre", "platform"


def _entry(unit: str, direction: str, status: str, kind: str | None = None) -> None:
    with session_scope() as s:
        app = file_application(s, "mini-test", unit, direction, region="110100")
        entry = s.exec(select(Entry).where(Entry.application_id == app.id)).one()
        entry.status, entry.quota_kind = status, kind
        s.add(entry)


def test_level_rows_count_every_direction_with_a_base_quota(sqlite_db, tmp_path):
    # 甲市 also gets a platform quota here (乙市's platforms stay 可报尽报): the table shows both directions
    text = MINI_CAMPAIGN.read_text().replace("\nquotas = { experience_centre = { base = 1 } }",
                                             "\nquotas = { experience_centre = { base = 1 }, platform = { base = 3 } }")
    path = tmp_path / "campaign.toml"
    path.write_text(text)
    install(path)
    _entry("110100", CENTRE, "selected", "base")
    _entry("110100", CENTRE, "selected", "extra")
    _entry("110100", PLATFORM, "selected", "base")
    _entry("110200", CENTRE, "selected", "base")
    _entry("110200", CENTRE, "not_selected")
    _entry("110200", PLATFORM, "ineligible")
    _entry("110000", CENTRE, "selected", "base")
    _entry("M", PLATFORM, "selected", "base")
    assert level_rows("mini-test") == [
        ("地市级", 2, 6, 5, 4, "用户过亿信息消费大平台 1/3 · 不限额单位 0；信息消费体验中心 2/2"),
        ("省级", 1, 1, 1, 1, "信息消费体验中心 1/2"),
        ("部级", 1, 1, 1, 1, "可报尽报"),
    ]
