"""Cross-checks of a campaign file that a single field's type cannot express.

Each problem is (key, zh, en) with the exact key at fault, e.g. `units[440100].parent`.
This module checks the chain (codes, tree, levels, deadlines, quotas); the checks of the
content (people, form rules, rubric, reminders, demonstration cities) are in
`core.campaign_content_checks`.
"""

from core.campaign import LEVEL_NAMES, CampaignConfig, Quota, UnitSpec

Problem = tuple[str, str, str]

# How far below the top each level sits; a unit must sit below the unit it reports to.
LEVEL_DEPTH = {
    "ministry": 0, "province": 1, "municipality": 1, "separately_planned_city": 1, "corps": 1,
    "central_enterprise": 1, "city": 2, "district": 3,
}


def check_campaign(config: CampaignConfig) -> list[Problem]:
    """Return every contradiction in the campaign; empty when it is consistent."""
    from core.campaign_content_checks import check_content

    return [
        *_check_codes(config),
        *_check_tree(config),
        *_check_levels(config),
        *_check_deadlines(config),
        *_check_quotas(config),
        *check_content(config),
    ]


def _check_codes(config: CampaignConfig) -> list[Problem]:
    seen: set[str] = set()
    out = []
    for i, unit in enumerate(config.units):
        if unit.code in seen:
            out.append((f"units[{i}].code", f"单位代码 {unit.code} 重复", f"duplicate unit code {unit.code}"))
        seen.add(unit.code)
    return out


def _check_tree(config: CampaignConfig) -> list[Problem]:
    codes = {u.code: u for u in config.units}
    out: list[Problem] = []
    roots = [u for u in config.units if u.parent is None]
    if len(roots) != 1:
        out.append(("units", f"须有且仅有一个顶层单位（无 parent），实有 {len(roots)} 个",
                    f"exactly one top unit (without parent) is needed, found {len(roots)}"))
    for u in config.units:
        key = f"units[{u.code}].parent"
        if u.parent == u.code:
            out.append((key, "单位不能向自己报送", "a unit cannot report to itself"))
        elif u.parent is not None and u.parent not in codes:
            out.append((key, f"上级单位 {u.parent} 不存在", f"parent unit {u.parent} does not exist"))
        if u.direct_to_ministry and roots and u.parent != roots[0].code:
            out.append((key, "直报单位的上级须为部级单位", "a direct-to-ministry unit must report to the ministry"))
    out.extend(_cycles(config, codes))
    return out


def _cycles(config: CampaignConfig, codes: dict[str, UnitSpec]) -> list[Problem]:
    """Report each unit on a cycle once (units that merely lead into a cycle are not at fault)."""
    out: list[Problem] = []
    reported: set[str] = set()
    for u in config.units:
        trail, node = [u.code], u
        while node.parent in codes and node.parent != node.code:
            if node.parent in trail:
                cycle = trail[trail.index(node.parent):]
                if not reported.intersection(cycle):
                    reported.update(cycle)
                    ring = " → ".join([*cycle, cycle[0]])
                    out.extend((f"units[{code}].parent", f"上下级关系成环：{ring}",
                                f"the reporting chain forms a cycle: {ring}") for code in cycle)
                break
            trail.append(node.parent)
            node = codes[node.parent]
    return out


def _check_levels(config: CampaignConfig) -> list[Problem]:
    codes = {u.code: u for u in config.units}
    has_children = {u.parent for u in config.units if u.parent != u.code}
    out: list[Problem] = []
    for u in config.units:
        parent = codes.get(u.parent) if u.parent not in (None, u.code) else None
        if parent is not None and LEVEL_DEPTH[u.level] <= LEVEL_DEPTH[parent.level]:
            out.append((f"units[{u.code}].level",
                        f"{LEVEL_NAMES[u.level]}单位不能向{LEVEL_NAMES[parent.level]}单位 {parent.code} 报送",
                        f"a {u.level} unit cannot report to the {parent.level} unit {parent.code}"))
        if not u.accepts_applications and u.code not in has_children:
            out.append((f"units[{u.code}].accepts_applications",
                        "该单位既不受理申报也没有下级单位，不会收到任何项目",
                        "the unit takes no applications and has no units below it: nothing can reach it"))
    return out


def _check_deadlines(config: CampaignConfig) -> list[Problem]:
    codes = {u.code: u for u in config.units}
    out = []
    for u in config.units:
        parent = codes.get(u.parent) if u.parent else None
        if parent is not None and parent.code != u.code and u.deadline > parent.deadline:
            out.append((f"units[{u.code}].deadline",
                        f"截止时间 {u.deadline:%Y-%m-%d %H:%M} 晚于上级 {parent.code} 的 {parent.deadline:%Y-%m-%d %H:%M}",
                        f"deadline {u.deadline:%Y-%m-%d %H:%M} is after the parent's ({parent.code}) {parent.deadline:%Y-%m-%d %H:%M}"))
    return out


def _check_quotas(config: CampaignConfig) -> list[Problem]:
    codes = {u.code: u for u in config.units}
    out: list[Problem] = []
    for u in config.units:
        parent = codes.get(u.parent or "")
        for table in ("quotas", "child_quotas"):
            for direction, quota in getattr(u, table).items():
                key = f"units[{u.code}].{table}.{direction}"
                if direction not in config.directions:
                    out.append((key, f"未知方向 {direction}", f"unknown direction {direction}"))
                else:
                    out.extend(_check_quota(config, u, parent, table == "quotas", quota, key, direction))
    return out


def _check_quota(config: CampaignConfig, unit: UnitSpec, parent: UnitSpec | None, own: bool,
                 quota: Quota, key: str, direction: str) -> list[Problem]:
    """Extras only for demonstration cities within the cap; direct only below a forwarding parent."""
    out: list[Problem] = []
    cap = config.directions[direction].demo_city_extra
    if quota.extra and quota.extra > cap:
        out.append((f"{key}.extra", f"额外推荐名额 {quota.extra} 超过该方向示范城市上限 {cap}",
                    f"extra {quota.extra} is above the direction's demonstration-city limit {cap}"))
    if own and quota.extra and config.demo_city(unit.code) is None:
        out.append((f"{key}.extra", f"{unit.code} 不是信息消费示范城市，不能额外推荐",
                    f"{unit.code} is not a demonstration city and has no extra recommendations"))
    if own and quota.direct and (parent is None or parent.parent is None):
        out.append((f"{key}.direct", "直报名额只适用于经上级转报到更高一级的单位",
                    "a direct quota only applies to a unit whose parent forwards to a higher level"))
    return out
