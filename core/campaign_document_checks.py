"""Cross-checks of what a campaign's documents need: a 备注 mark for every rule that marks an
entry. (A direction's table_title is printed only on the per-direction tables a unit asks its
children for, `child_per_direction_tables`; a campaign where nobody asks simply never prints it.)

Each problem is (key, zh, en) with the exact key at fault, e.g. `remarks.direct`.
"""

from core.campaign import CampaignConfig

Problem = tuple[str, str, str]


def check_documents(config: CampaignConfig) -> list[Problem]:
    """Return every document setting the campaign's rules leave missing."""
    return _check_remarks(config)


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
