"""Document settings in a campaign file: the marks the rules need, and keys that moved."""

from pathlib import Path

import pytest

from core.campaign import load_campaign
from core.errors import ConfigError
from tests.conftest import CAMPAIGN_2023 as CAMPAIGN_2023_DIR
from tests.conftest import MINI_CAMPAIGN

CAMPAIGN_2023 = CAMPAIGN_2023_DIR / "campaign.toml"


def refused(tmp_path: Path, source: Path, old: str, new: str) -> dict[str, str]:
    """Load `source` with `old` replaced by `new` once; return key → 'zh / en' of every problem."""
    text = source.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path = tmp_path / "campaign.toml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_campaign(path)
    return {e.field: f"{e.zh} / {e.en}" for e in info.value.errors}


REMARKS_2023 = 'remarks = { extra = "示范城市额外推荐", direct = "特色项目，经省直报工信部", title = "省级示范项目" }'


@pytest.mark.parametrize(("kind", "others"), [
    ("extra", 'direct = "d", title = "t"'), ("direct", 'extra = "e", title = "t"'), ("title", 'extra = "e", direct = "d"')])
def test_a_rule_that_marks_entries_needs_its_mark(tmp_path, kind, others):
    problems = refused(tmp_path, CAMPAIGN_2023, REMARKS_2023, f"remarks = {{ {others} }}")
    assert list(problems) == [f"remarks.{kind}"]
    assert "备注" in problems[f"remarks.{kind}"]


@pytest.mark.parametrize(("old", "new", "key", "words"), [
    ('child_per_direction_tables = true', 'per_direction_tables = true',
     "units[420100].per_direction_tables", "child_per_direction_tables"),
    ('child_summary_notes = [', 'summary_notes = [', "units[440000].summary_notes", "child_summary_notes"),
])
def test_moved_keys_say_where_the_setting_lives_now(tmp_path, old, new, key, words):
    problems = refused(tmp_path, CAMPAIGN_2023, old, new)
    assert words in problems[key] and "上级" in problems[key]


def test_campaign_wide_notes_are_refused_with_the_new_key(tmp_path):
    problems = refused(tmp_path, MINI_CAMPAIGN, 'summary_title = "2031年测试示范项目推荐项目汇总表"\n',
                       'summary_title = "2031年测试示范项目推荐项目汇总表"\nsummary_notes = ["x"]\n')
    assert "child_summary_notes" in problems["summary_notes"]
