"""Contradictory campaign files are refused with the exact key at fault; other rules need no code."""

from decimal import Decimal
from pathlib import Path

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from cli.main import app
from core.campaign import load_campaign
from core.db import session_scope
from core.errors import ConfigError
from models import Campaign, Unit
from tasks.campaigns import campaign_config, get_campaign, load_and_install
from tasks.quotas import quota_for
from tests.conftest import CAMPAIGN_2023, MINI_CAMPAIGN

MINI = MINI_CAMPAIGN.read_text(encoding="utf-8")
CITY_1 = 'code = "110100"\nname = "甲市"\nlevel = "city"\nparent = "110000"\n'
CITY_2 = 'code = "110200"\nname = "乙市"\nlevel = "city"\nparent = "110000"\n'
PROVINCE = 'code = "110000"\nname = "甲省"\nlevel = "province"\nparent = "M"\n'
CITY_1_QUOTA = '\nquotas = { experience_centre = { base = 1 } }'


def edited(tmp_path: Path, *edits: tuple[str, str]) -> Path:
    """Write a copy of the mini campaign with each (old, new) replaced exactly once."""
    text = MINI
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path = tmp_path / "campaign.toml"
    path.write_text(text, encoding="utf-8")
    return path


def refused(path: Path) -> dict[str, str]:
    """Load a file that must be refused; return key → 'zh / en' of every problem."""
    with pytest.raises(ConfigError) as info:
        load_campaign(path)
    assert all(e.zh and e.en and e.file == str(path) for e in info.value.errors)
    return {e.field: f"{e.zh} / {e.en}" for e in info.value.errors}


CASES = {
    "self": ([(CITY_1, CITY_1.replace('parent = "110000"', 'parent = "110100"'))],
             "units[110100].parent", "不能向自己报送"),
    "unknown parent": ([(CITY_2, CITY_2.replace('"110000"', '"990000"'))],
                       "units[110200].parent", "990000"),
    "negative quota": ([(CITY_1_QUOTA, CITY_1_QUOTA.replace("1", "-2"))],
                       "units[110100].quotas.experience_centre.base", "-1"),
    "negative direct": ([(CITY_1_QUOTA, CITY_1_QUOTA.replace("base = 1", "direct = -1"))],
                        "units[110100].quotas.experience_centre.direct", "0"),
    "late deadline": ([("deadline = 2031-06-10T17:00:00\nregion", "deadline = 2031-06-25T17:00:00\nregion")],
                      "units[110100].deadline", "2031-06-20 17:00"),
    "unknown direction": ([(CITY_1_QUOTA, CITY_1_QUOTA.replace("experience_centre", "vr_hall"))],
                          "units[110100].quotas.vr_hall", "vr_hall"),
    "unknown child direction": ([("child_quotas = { experience_centre = { base = 2 } }",
                                  "child_quotas = { kiosk = { base = 2 } }")],
                                "units[M].child_quotas.kiosk", "kiosk"),
    "rule on missing field": ([('field = "mau"', 'field = "dau"')],
                              "directions.platform.rules[0].field", "dau"),
    "rule on text field": ([('field = "area"', 'field = "profile"')],
                           "directions.experience_centre.rules[0].field", "不是数值"),
    "min above max": ([("min = 200,", "min = 200, max = 100,")],
                      "directions.experience_centre.rules[0].min", "200"),
    "text limit on missing field": ([("text_limits = { profile = 300, overview = 300 }\nrules = [{ field = \"mau\"",
                                      "text_limits = { slogan = 300 }\nrules = [{ field = \"mau\"")],
                                     "directions.platform.text_limits.slogan", "slogan"),
    "duplicate code": ([(CITY_2, CITY_2.replace('"110200"', '"110100"'))], "units[3].code", "110100"),
    "duplicate person": ([('id = "c2-off"', 'id = "c1-off"')], "units[110200].officials[c1-off].id", "c1-off"),
    "no official": ([('officials = [{ id = "c2-off", name = "乙市审批人", email = "c2-off@example.org" }]\n', "")],
                    "units[110200].officials", "official"),
    "bad e-mail": ([('"c2-con@example.org"', '"c2-con at example"')],
                   "units[110200].contacts[c2-con].email", "格式不符"),
    "typo in a key": ([("region = \"1101\"", "regoin = \"1101\"")], "units[110100].regoin", "未知配置项"),
    "missing deadline": ([("direct_to_ministry = true\ndeadline = 2031-06-20T17:00:00\n", "direct_to_ministry = true\n")],
                         "units[CE01].deadline", "缺少必填项"),
    "unknown level": ([(CITY_2, CITY_2.replace('"city"', '"county"'))], "units[110200].level", "须为以下之一"),
    "province under a province": ([(CITY_2, CITY_2.replace('"city"', '"province"'))],
                                  "units[110200].level", "省级单位不能向省级单位 110000 报送"),
    "dead end": ([('deadline = 2031-06-20T17:00:00\nofficials = [{ id = "ce-off"',
                   'deadline = 2031-06-20T17:00:00\naccepts_applications = false\nofficials = [{ id = "ce-off"')],
                 "units[CE01].accepts_applications", "nothing can reach it"),
    "extra above the direction's": ([(CITY_1_QUOTA, CITY_1_QUOTA.replace("base = 1", "base = 1, extra = 2"))],
                                    "units[110100].quotas.experience_centre.extra", "上限 1"),
    "extra for a non-demonstration city": ([("experts = [{ id = \"c2-e1\"",
                                             "quotas = { experience_centre = { extra = 1 } }\nexperts = [{ id = \"c2-e1\"")],
                                           "units[110200].quotas.experience_centre.extra", "不是信息消费示范城市"),
    "direct quota straight under the top": ([("direct_to_ministry = true\n",
                                              "direct_to_ministry = true\nquotas = { experience_centre = { direct = 1 } }\n")],
                                            "units[CE01].quotas.experience_centre.direct", "直报"),
    "titles without experts": ([('review = "formal"', 'review = "formal"\nprovincial_titles = 3')],
                               "units[110100].provincial_titles", "expert"),
    "region not a code": ([('region = "1101"', 'region = "甲市"')], "units[110100].region", "甲市"),
    "duplicate criterion": ([('key = "innovation"', 'key = "demo"')], "rubric.criteria[1].key", "demo"),
    "reminder offsets": ([("offsets = [2, 1]", "offsets = [2, 2]")], "reminders.offsets", "[2, 2]"),
    "reminders after the daily run": ([("offsets = [2, 1]", "offsets = [2, 1]\nhour = 14")],
                                      "reminders.hour", "晚于每日提醒流程的运行时间 9:00"),
    "working days beyond the holiday calendar": ([("weekdays_beyond_calendar = true", "")],
                                                 "reminders.working_days", "节假日日历尚无 2031 年"),
    "duplicate demonstration city": ([('[[demonstration_cities]]\ncode = "110100"',
                                       '[[demonstration_cities]]\ncode = "110100"\nname = "甲市"\ntype = "featured"\n\n'
                                       '[[demonstration_cities]]\ncode = "110100"')],
                                     "demonstration_cities[1].code", "110100"),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_contradiction_is_refused_with_the_key_at_fault(tmp_path, case):
    edits, key, words = CASES[case]
    problems = refused(edited(tmp_path, *edits))
    assert key in problems, problems
    assert words in problems[key]


def test_working_days_are_checked_back_to_the_earliest_reminder_and_an_early_hour_is_fine(tmp_path):
    # deadlines in the first week of 2004 (known): their reminders reach back into 2003 (not known)
    text = MINI.replace("weekdays_beyond_calendar = true", "hour = 8")
    for day, early in (("30", "08"), ("20", "07"), ("10", "06")):
        text = text.replace(f"deadline = 2031-06-{day}", f"deadline = 2004-01-{early}")
    path = tmp_path / "campaign.toml"
    path.write_text(text, encoding="utf-8")
    problems = refused(path)
    assert set(problems) == {"reminders.working_days"}
    assert "尚无 2003 年" in problems["reminders.working_days"]


def test_the_reminders_hour_limit_is_the_hour_the_deployment_runs():
    import yaml

    from core.campaign_content_checks import REMINDERS_RUN_HOUR

    deployments = yaml.safe_load((MINI_CAMPAIGN.parents[2] / "deployments" / "prefect.yaml").read_text("utf-8"))
    [daily] = [d for d in deployments["deployments"] if d["name"] == "reminders-daily"][0]["schedules"]
    assert (daily["cron"], daily["timezone"]) == (f"0 {REMINDERS_RUN_HOUR} * * *", "Asia/Shanghai")


def test_cycle_names_the_units_on_it_and_not_those_leading_into_it(tmp_path):
    path = edited(tmp_path, (PROVINCE, PROVINCE.replace('"M"', '"110100"')))
    problems = refused(path)
    assert "成环" in problems["units[110000].parent"] and "成环" in problems["units[110100].parent"]
    assert "units[110200].parent" not in problems


def test_every_problem_is_reported_at_once(tmp_path):
    path = edited(tmp_path, ('field = "mau"', 'field = "dau"'), ('id = "c2-off"', 'id = "c1-off"'),
                  (CITY_2, CITY_2.replace('"110000"', '"110000x"')))
    assert {"directions.platform.rules[0].field", "units[110200].officials[c1-off].id",
            "units[110200].parent"} <= set(refused(path))


def test_bad_toml_names_the_file_and_line(tmp_path):
    path = tmp_path / "campaign.toml"
    path.write_text(MINI.replace('slug = "mini-test"', 'slug = "mini-test'), encoding="utf-8")
    problems = refused(path)
    assert "line 2" in problems["(file)"]


def test_missing_file_is_refused(tmp_path):
    assert "(file)" in refused(tmp_path / "nowhere.toml")


def test_the_mini_campaign_has_other_rules_and_needs_no_code_change(db):
    with session_scope() as s:
        load_and_install(s, MINI_CAMPAIGN)
    with session_scope() as s:
        config = campaign_config(get_campaign(s, "mini-test"))
        assert len(s.exec(select(Unit)).all()) == 5
    platform, centre = config.directions["platform"], config.directions["experience_centre"]
    assert platform.rules[0].min == Decimal("0.5") and centre.rules[0].min == Decimal(200)
    assert platform.text_limits == {"profile": 300, "overview": 300}
    assert centre.demo_city_extra == 1
    assert (config.reminders.offsets, config.reminders.working_days) == ([2, 1], True)
    assert config.rubric.aggregation == "mean" and len(config.rubric.criteria) == 2
    city = quota_for(config, "110100", "experience_centre")
    assert (city.base, city.extra) == (1, 1)
    assert quota_for(config, "110200", "experience_centre").base == 1  # the province's child quota
    assert quota_for(config, "110000", "experience_centre").base == 2  # the ministry's child quota


runner = CliRunner()


def test_cli_check_prints_the_keys_at_fault_and_exits_non_zero(tmp_path):
    path = edited(tmp_path, (CITY_1_QUOTA, CITY_1_QUOTA.replace("experience_centre", "vr_hall")),
                  ("deadline = 2031-06-10T17:00:00\nregion", "deadline = 2031-06-25T17:00:00\nregion"))
    result = runner.invoke(app, ["campaign", "check", str(path)])
    assert result.exit_code == 1
    assert "units[110100].quotas.vr_hall" in result.output
    assert "units[110100].deadline" in result.output
    assert "活动配置文件有误" in result.output


def test_cli_check_accepts_the_2023_file():
    result = runner.invoke(app, ["campaign", "check", str(CAMPAIGN_2023)])
    assert result.exit_code == 0, result.output
    assert f"2023-xinxi-xiaofei: {len(load_campaign(CAMPAIGN_2023).units)} 个单位" in result.output


def test_cli_load_refuses_a_bad_file_and_installs_nothing(db, tmp_path):
    path = edited(tmp_path, ('field = "mau"', 'field = "dau"'))
    result = runner.invoke(app, ["campaign", "load", str(path)])
    assert result.exit_code == 1
    assert "directions.platform.rules[0].field" in result.output
    with session_scope() as s:
        assert s.exec(select(Campaign)).all() == []


def test_cli_load_installs_a_good_file(db):
    result = runner.invoke(app, ["campaign", "load", str(MINI_CAMPAIGN)])
    assert result.exit_code == 0, result.output
    assert "mini-test" in result.output
    with session_scope() as s:
        assert get_campaign(s, "mini-test").year == 2031
