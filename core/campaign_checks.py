"""Cross-checks of a campaign file that a single field's type cannot express.

Each problem is (key, zh, en) with the exact key at fault, e.g. `units[440100].parent`.
"""

from core.campaign import CampaignConfig

Problem = tuple[str, str, str]


def check_campaign(config: CampaignConfig) -> list[Problem]:
    """Return every contradiction in the campaign; empty when it is consistent."""
    return [
        *_check_codes(config),
        *_check_tree(config),
        *_check_deadlines(config),
        *_check_quotas(config),
        *_check_people(config),
        *_check_rules(config),
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


def _cycles(config: CampaignConfig, codes: dict) -> list[Problem]:
    out = []
    for u in config.units:
        seen, node = {u.code}, u
        while node.parent is not None and node.parent in codes and node.parent != node.code:
            if node.parent in seen:
                out.append((f"units[{u.code}].parent", f"上下级关系成环：{' → '.join(sorted(seen))}",
                            f"the reporting chain forms a cycle through {', '.join(sorted(seen))}"))
                break
            seen.add(node.parent)
            node = codes[node.parent]
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
    out = []
    for u in config.units:
        for table in ("quotas", "child_quotas"):
            for direction in getattr(u, table):
                if direction not in config.directions:
                    out.append((f"units[{u.code}].{table}.{direction}", f"未知方向 {direction}",
                                f"unknown direction {direction}"))
    return out


def _check_people(config: CampaignConfig) -> list[Problem]:
    seen: dict[str, str] = {}
    out = []
    for u in config.units:
        for role in ("contacts", "officials", "experts"):
            for p in getattr(u, role):
                if p.id in seen:
                    out.append((f"units[{u.code}].{role}[{p.id}].id", f"人员编号 {p.id} 重复",
                                f"duplicate person id {p.id}"))
                seen[p.id] = u.code
    return out


def _check_rules(config: CampaignConfig) -> list[Problem]:
    from models.forms import form_fields

    out = []
    for key, d in config.directions.items():
        fields = form_fields(d.form)
        for i, rule in enumerate(d.rules):
            if rule.field not in fields:
                out.append((f"directions.{key}.rules[{i}].field", f"申报书中没有字段 {rule.field}",
                            f"the form has no field {rule.field}"))
        for name in d.text_limits:
            if name not in fields:
                out.append((f"directions.{key}.text_limits.{name}", f"申报书中没有字段 {name}",
                            f"the form has no field {name}"))
    return out
