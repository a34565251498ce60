"""Cross-checks of what a campaign's documents need: a 备注 mark for every rule that marks an
entry, and per-direction table titles only where some unit asks for per-direction tables.

Each problem is (key, zh, en) with the exact key at fault, e.g. `remarks.direct`.
"""

from core.campaign import CampaignConfig

Problem = tuple[str, str, str]


def check_documents(config: CampaignConfig) -> list[Problem]:
    """Return every document setting the campaign's rules leave missing or unused."""
    return [*_check_remarks(config), *_check_table_titles(config)]


def _quota_values(config: CampaignConfig, kind: str) -> list[int]:
    return [getattr(q, kind) or 0 for u in config.units
            for table in (u.quotas, u.child_quotas) for q in table.values()]


def _check_remarks(config: CampaignConfig) -> list[Problem]:
    """Every kind of entry the rules can produce needs its 备注 wording (Guangdong requires it)."""
    used = {
        "extra": any(d.demo_city_extra for d in config.directions.values())
        or any(_quota_values(config, "extra")),
        "direct": any(_quota_values(config, "direct")),
        "title": any(u.provincial_titles for u in config.units),
    }
    rule = {"extra": ("示范城市额外推荐名额", "demonstration-city extras"),
            "direct": ("直报名额（quotas.direct）", "direct quotas (quotas.direct)"),
            "title": ("省级示范评定（provincial_titles）", "provincial titles (provincial_titles)")}
    return [(f"remarks.{kind}", f"已配置{rule[kind][0]}，须填写其在汇总表“备注”中的标注",
             f"{rule[kind][1]} are configured: give the mark the summary table's 备注 shows for them")
            for kind, on in used.items() if on and not getattr(config.remarks, kind)]


def _check_table_titles(config: CampaignConfig) -> list[Problem]:
    """A direction's table_title is printed only on per-direction tables: some unit must ask for them."""
    if any(u.child_per_direction_tables for u in config.units):
        return []
    return [(f"directions.{key}.table_title",
             "没有单位要求下级分方向报送汇总表（child_per_direction_tables），该标题不会被使用",
             "no unit asks its children for per-direction tables (child_per_direction_tables): "
             "this title would never be printed")
            for key, d in config.directions.items() if d.table_title]
