"""Cross-checks of a campaign's content: people, form rules, rubric, reminders, cities.

Each problem is (key, zh, en) with the exact key at fault, e.g. `directions.platform.rules[0].field`.
The chain itself (codes, tree, levels, deadlines, quotas) is checked in `core.campaign_checks`.
"""

import re
from datetime import timedelta

from core.campaign import CampaignConfig

Problem = tuple[str, str, str]
# deployments/prefect.yaml runs reminders-daily at this hour (cron "0 9 * * *", Asia/Shanghai)
REMINDERS_RUN_HOUR = 9
NUMERIC_KINDS = ("decimal", "int", "money")


def check_content(config: CampaignConfig) -> list[Problem]:
    """Return every contradiction in the campaign's content; empty when it is consistent."""
    from core.campaign_document_checks import check_documents

    return [
        *check_documents(config),
        *_check_people(config),
        *_check_unit_settings(config),
        *_check_rules(config),
        *_check_rubric(config),
        *_check_reminders(config),
        *_check_demo_cities(config),
    ]


def _check_people(config: CampaignConfig) -> list[Problem]:
    seen: dict[str, str] = {}
    out = []
    for u in config.units:
        if not u.officials:
            out.append((f"units[{u.code}].officials", "每个单位至少需要一名审批人（official）",
                        "every unit needs at least one official to approve its list"))
        for role in ("contacts", "officials", "experts"):
            for p in getattr(u, role):
                if p.id in seen:
                    out.append((f"units[{u.code}].{role}[{p.id}].id", f"人员编号 {p.id} 重复",
                                f"duplicate person id {p.id}"))
                seen[p.id] = u.code
    return out


def _check_unit_settings(config: CampaignConfig) -> list[Problem]:
    out = []
    for u in config.units:
        if u.provincial_titles and u.review != "experts":
            out.append((f"units[{u.code}].provincial_titles", "评选省级示范项目须经专家评审（review = \"experts\"）",
                        "provincial titles are awarded by expert review (review = \"experts\")"))
        if u.region is not None and not re.fullmatch(r"\d{2,6}", u.region):
            out.append((f"units[{u.code}].region", f"注册地区划代码前缀 {u.region} 应为 2–6 位数字",
                        f"region {u.region} must be a 2-6 digit division code prefix"))
    return out


def _check_rules(config: CampaignConfig) -> list[Problem]:
    from models.forms import form_fields

    out = []
    for key, d in config.directions.items():
        fields = form_fields(d.form)
        for i, rule in enumerate(d.rules):
            field = fields.get(rule.field)
            if field is None:
                out.append((f"directions.{key}.rules[{i}].field", f"申报书中没有字段 {rule.field}",
                            f"the form has no field {rule.field}"))
            elif field.kind not in NUMERIC_KINDS:
                out.append((f"directions.{key}.rules[{i}].field", f"字段 {rule.field} 不是数值，不能设上下限",
                            f"field {rule.field} is not numeric and cannot have a min or max"))
            if rule.min is not None and rule.max is not None and rule.min > rule.max:
                out.append((f"directions.{key}.rules[{i}].min", f"下限 {rule.min} 大于上限 {rule.max}",
                            f"min {rule.min} is above max {rule.max}"))
        for name in d.text_limits:
            if name not in fields:
                out.append((f"directions.{key}.text_limits.{name}", f"申报书中没有字段 {name}",
                            f"the form has no field {name}"))
    return out


def _check_rubric(config: CampaignConfig) -> list[Problem]:
    seen: set[str] = set()
    out = []
    for i, criterion in enumerate(config.rubric.criteria):
        if criterion.key in seen:
            out.append((f"rubric.criteria[{i}].key", f"评分项 {criterion.key} 重复",
                        f"duplicate criterion {criterion.key}"))
        seen.add(criterion.key)
    return out


def _check_reminders(config: CampaignConfig) -> list[Problem]:
    rules, offsets = config.reminders, config.reminders.offsets
    out: list[Problem] = []
    if any(o <= 0 for o in offsets) or len(set(offsets)) != len(offsets):
        return [("reminders.offsets", f"提醒提前天数 {offsets} 须为互不相同的正整数",
                 f"reminder offsets {offsets} must be distinct positive days")]
    if rules.hour > REMINDERS_RUN_HOUR:
        out.append(("reminders.hour",
                    f"提醒时间 {rules.hour}:00 晚于每日提醒流程的运行时间 {REMINDERS_RUN_HOUR}:00，提醒会晚一天发出",
                    f"reminders at {rules.hour}:00 come after the daily reminders run at "
                    f"{REMINDERS_RUN_HOUR}:00 and would go out a day late"))
    unknown = sorted(_reminder_years(config) - calendar_years())
    if rules.working_days and not rules.weekdays_beyond_calendar and unknown:
        years = "、".join(map(str, unknown))
        out.append(("reminders.working_days",
                    f"节假日日历尚无 {years} 年的放假安排，无法按工作日计算提醒；请改用日历日（working_days = false），"
                    "或确认按周一至周五计算（weekdays_beyond_calendar = true）",
                    f"the holiday calendar has no schedule for {years}: reminders cannot count working days; "
                    "use calendar days (working_days = false) or accept Monday to Friday "
                    "(weekdays_beyond_calendar = true)"))
    return out


def calendar_years() -> set[int]:
    """The years whose holiday schedule chinese_calendar knows (tasks.reminder_rules counts with it)."""
    import chinese_calendar.constants

    return {d.year for d in chinese_calendar.constants.holidays}


def _reminder_years(config: CampaignConfig) -> set[int]:
    """The years reminders count days in: each deadline's, back to its earliest reminder.

    `n` working days never reach back more than 2n + 14 calendar days (weekends, and a
    holiday of at most nine days with its make-up days), so that span covers every reminder.
    """
    back = timedelta(days=2 * max(config.reminders.offsets, default=0) + 14)
    return {year for u in config.units for year in range((u.deadline - back).year, u.deadline.year + 1)}


def _check_demo_cities(config: CampaignConfig) -> list[Problem]:
    seen: set[str] = set()
    out = []
    for i, city in enumerate(config.demonstration_cities):
        if city.code in seen:
            out.append((f"demonstration_cities[{i}].code", f"示范城市代码 {city.code} 重复",
                        f"duplicate demonstration city code {city.code}"))
        seen.add(city.code)
    return out
