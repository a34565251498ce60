"""The proposed list is Markdown (the approval form in Prefect's UI, the approval e-mail):
applicant text in it is escaped once, so it renders back exactly as typed and never as markup."""

import html
import re

from hypothesis import given
from hypothesis import strategies as st

from tasks.selection import md_escape
from tests.security import hostile

MARKUP = set("<>&[]()*_`#!")
ENTITY = re.compile(r"&#\d+;")


def rendered(escaped: str) -> str:
    """What a Markdown renderer shows for escaped text: entities decoded, backslash escapes dropped."""
    return re.sub(r"\\(.)", r"\1", html.unescape(escaped))


@given(st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n")))
def test_escaped_text_renders_back_as_typed_and_holds_no_markup(text):
    escaped = md_escape(text)
    assert rendered(escaped) == text
    assert not MARKUP & set(ENTITY.sub("", escaped))
    assert "|" not in escaped.replace("\\|", "")


def test_company_names_with_brackets_and_ampersands_are_escaped_once():
    assert md_escape("A&B科技(深圳)有限公司") == "A&#38;B科技&#40;深圳&#41;有限公司"
    for value in (hostile.SCRIPT, hostile.IMG, hostile.MARKDOWN):
        assert rendered(md_escape(value)) == value
