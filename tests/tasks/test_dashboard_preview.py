"""The 推荐函's HTML rendering on the dashboard: named in Chinese, linked from the unit page,
shown in the browser (not downloaded) and only for the letter's page."""

import re

from fastapi.testclient import TestClient

from core.db import session_scope
from tasks.dashboard_app import create_app
from tasks.documents import write_stage_documents
from tests.conftest import MINI_CAMPAIGN
from tests.support import databases
from tests.support import documents as f


def test_unit_page_links_the_letter_preview_and_it_opens_in_the_browser(db):
    slug = databases.install(MINI_CAMPAIGN)
    with session_scope() as s:
        docs = {d.kind: d.id for d in write_stage_documents(s, f.mini_province(s, slug).id)}
    client = TestClient(create_app())
    page = client.get(f"/c/{slug}/u/110000")
    assert page.status_code == 200
    section = page.text[page.text.index('id="documents"'):page.text.index('id="double-track"')]
    link = re.search(rf'<a class="preview" href="/c/{slug}/documents/(\d+)/preview"[^>]*>([^<]+)</a>', section)
    assert link and int(link.group(1)) == docs["letter_html"] and link.group(2) == "推荐函（网页预览）"
    assert f'href="/c/{slug}/documents/{docs["letter"]}" download>推荐函</a>' in section

    shown = client.get(f"/c/{slug}/documents/{docs['letter_html']}/preview")
    assert shown.status_code == 200 and shown.headers["content-type"].startswith("text/html")
    assert "attachment" not in shown.headers.get("content-disposition", "")
    assert "default-src 'none'" in shown.headers["content-security-policy"]
    assert "甲工信函〔2031〕1号" in shown.text and "关于推荐2031年测试示范项目的函" in shown.text

    for other in ("letter", "summary", "export"):
        refused = client.get(f"/c/{slug}/documents/{docs[other]}/preview")
        assert refused.status_code == 404 and "无网页预览" in refused.text
    assert client.get(f"/c/other/documents/{docs['letter_html']}/preview").status_code == 404
