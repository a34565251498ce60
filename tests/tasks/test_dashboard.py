"""The web dashboard rendered from a real database: what a person sees on each page."""

import io
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from core.db import session_scope
from models import Document
from tasks.dashboard_app import create_app
from tasks.dashboard_views import tree_view, when
from tasks.status import load_status
from tests.conftest import MINI_CAMPAIGN, ROOT
from tests.support import databases
from tests.tasks.status_factories import EVIL, populate


@pytest.fixture
def scene(db, tmp_path):
    slug = databases.install(MINI_CAMPAIGN)
    return slug, populate(slug, tmp_path / "out")


@pytest.fixture
def client():
    return TestClient(create_app())


def text(html: str) -> str:
    """The page's visible text, roughly: tags dropped, whitespace squeezed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_root_goes_to_the_only_campaign(scene, client):
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 307
    assert response.headers["location"] == f"/c/{scene[0]}"


def test_overview_shows_states_late_units_approvals_and_quotas(scene, client):
    slug, _ = scene
    response = client.get(f"/c/{slug}")
    assert response.status_code == 200
    html, seen = response.text, text(response.text)
    assert "测试示范项目（虚构）" in seen and "2031-06-12 09:00" in seen
    late = html[html.index('id="late"'):html.index('id="awaiting"')]
    assert "乙市" in late and "逾期 1天16小时" in late and "甲市" not in late
    waiting = html[html.index('id="awaiting"'):html.index('id="chain"')]
    assert "甲省" in waiting and "2031-06-11 10:00" in waiting and "23 小时" in waiting
    chain = html[html.index('id="chain"'):]
    assert 'class="st st-scoring">专家评审</span>' in chain
    assert "体验中心 1/1" in chain and "额外 1/1" in chain  # 甲市: base and demo-city extra
    assert "体验中心 1/2" in chain and "平台 1/不限" in chain  # 甲省
    assert '<b class="badge late">逾期 overdue</b>' in chain
    assert '<b class="badge ext">已延期 extended</b>' in chain  # CE01's extension
    assert re.search(r'<details data-code="M" open>', chain)
    assert re.search(r'<details data-code="110000">', chain)  # provinces start collapsed


def test_overview_cards_count_units_per_state(scene, client):
    seen = text(client.get(f"/c/{scene[0]}").text)
    for n, name in ((1, "未开始"), (1, "汇总中"), (1, "专家评审"), (1, "待审批"), (1, "已报送"),
                    (0, "已完成"), (1, "逾期")):
        assert f"{n} {name}" in seen


def test_timeline_marks_past_and_overdue_deadlines(scene, client):
    html = client.get(f"/c/{scene[0]}").text
    timeline = html[html.index("截止时间线"):html.index('id="late"')]
    rows = re.findall(r'<tr class="(past|future)"><td>([^<]+)</td><td>([^<]+)</td><td>([^<]+)</td>',
                      timeline)
    assert rows[0] == ("past", "2031-06-10 17:00", "地市级×2", "1/2")
    assert ("future", "2031-06-25 17:00", "中央企业×1", "0/1") in rows  # extended deadline
    assert timeline.count('class="mark late"') == 1


def test_unit_page_lists_entries_scores_decisions_documents_and_audit(scene, client):
    slug, sc = scene
    html = client.get(f"/c/{slug}/u/110100").text
    seen = text(html)
    assert "甲市 110100 · 地市级" in seen and "已报送" in seen
    assert "甲体验公司" in seen and "推荐名额" in seen and "示范城市额外推荐" in seen
    assert "缺少附3责任声明" in seen and "已退回" in seen
    assert f'href="/c/{slug}/documents/{sc.documents["summary@110100"]}"' in html
    assert "汇总表（信息消费体验中心）" in seen
    assert "stage.approve" in seen and "c1-off" in seen  # the audit trail
    assert 'href="http://127.0.0.1:4200/runs/flow-run/0b6f1a8e-0000-4000-8000-000000000001"' in html
    province = text(client.get(f"/c/{slug}/u/110000").text)
    assert "待审批" in province and "示范城市额外推荐（不占本级名额）" in province
    assert "甲市" in province  # the 'from' column names the city


def test_unit_page_of_a_late_unit_shows_the_overdue_mark_and_scores(scene, client):
    html = client.get(f"/c/{scene[0]}/u/110200").text
    seen = text(html)
    assert "逾期 1天16小时" in seen and "1d 16h overdue" in seen
    scores = html[html.index('id="scores"'):html.index('id="documents"')]
    assert text(scores).count("c2-e1") == 2 and "80" in scores
    assert "面积不足200平方米" in seen and "不符合条件" in seen
    assert "尚未运行" in seen  # no flow run yet


def test_applicant_strings_are_escaped_everywhere(scene, client):
    slug, _ = scene
    for path in (f"/c/{slug}", f"/c/{slug}/u/110200"):
        html = client.get(path).text
        assert "<script>alert" not in html
    html = client.get(f"/c/{slug}/u/110200").text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;坏公司" in html
    assert html.count('<script src="/static/dashboard.js" defer></script>') == 1


def test_tree_lines_escape_unit_names(scene):
    """The tree is pre-rendered in Python for speed; it must escape like the templates do."""
    slug, _ = scene
    with session_scope() as s:
        status = load_status(s, slug)
    status.units["110200"].name = EVIL
    lines = [n.line for root in tree_view(status, status.roots, "/c/x") for n in _walk(root)]
    assert any("&lt;script&gt;" in line for line in lines)
    assert not any("<script>" in line for line in lines)


def _walk(node):
    yield node
    for child in node.children:
        yield from _walk(child)


def test_download_serves_the_recorded_file_by_id(scene, client):
    slug, sc = scene
    response = client.get(f"/c/{slug}/documents/{sc.documents['summary@110100']}")
    assert response.status_code == 200
    assert "filename*=utf-8''110100-%E6%B1%87%E6%80%BB%E8%A1%A8" in response.headers["content-disposition"]
    ws = load_workbook(io.BytesIO(response.content)).active
    assert ws["A2"].value == "推荐单位：甲市" and ws["B4"].value == "甲体验公司"


def test_download_refuses_unknown_ids_other_campaigns_and_lost_files(scene, client, tmp_path):
    slug, sc = scene
    assert client.get(f"/c/{slug}/documents/9999").status_code == 404
    assert client.get(f"/c/{slug}/documents/..%2F..%2Fetc%2Fpasswd").status_code in (404, 422)
    assert client.get(f"/c/other/documents/{sc.documents['summary@110100']}").status_code == 404
    with session_scope() as s:
        doc = s.get(Document, sc.documents["summary@110100"])
        doc.path = str(tmp_path / "gone.xlsx")
        s.add(doc)
    response = client.get(f"/c/{slug}/documents/{doc.id}")
    assert response.status_code == 404 and "文件已不存在" in response.text


def test_unknown_campaign_and_unit_are_404_pages_in_both_languages(scene, client):
    response = client.get(f"/c/{scene[0]}/u/999999")
    assert response.status_code == 404
    assert "未找到单位 999999" in response.text and "no unit 999999" in response.text
    assert client.get("/c/nothing").status_code == 404


def test_pages_work_without_javascript_and_refresh_themselves(scene, client):
    html = client.get(f"/c/{scene[0]}").text
    assert '<noscript><meta http-equiv="refresh" content="30"></noscript>' in html
    assert "<details" in html and "<summary>" in html
    js = client.get("/static/dashboard.js")
    assert js.status_code == 200 and "setInterval" in js.text and "http" not in js.text.split("fetch(")[0]
    css = client.get("/static/dashboard.css")
    assert css.status_code == 200 and "--late" in css.text
    assert "cdn" not in html.lower() and "https://" not in html


def test_when_shows_shanghai_time():
    from datetime import UTC, datetime

    assert when(datetime(2031, 6, 10, 9, 0, tzinfo=UTC)) == "2031-06-10 17:00"
    assert when(datetime(2031, 6, 10, 9, 0)) == "2031-06-10 17:00"  # naive = stored UTC
    assert when(None) == ""


@pytest.mark.slow
def test_dashboard_command_serves_on_localhost(scene):
    """`tuijian dashboard` starts uvicorn on 127.0.0.1 and serves the overview."""
    import os
    import subprocess
    import sys
    import time

    import httpx

    from tests.support.smtp import free_port

    port = free_port()
    cmd = [str(Path(sys.executable).parent / "tuijian"), "dashboard", "--port", str(port)]
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, "TUIJIAN_DASHBOARD_HOST": "127.0.0.1"},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        response, deadline = None, time.monotonic() + 60
        while response is None and proc.poll() is None and time.monotonic() < deadline:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/c/{scene[0]}", timeout=5)
            except httpx.TransportError:
                time.sleep(0.1)  # the server is still starting
        assert response is not None, proc.stdout.read() if proc.poll() is not None else "no answer"
        assert response.status_code == 200 and "推荐链" in response.text
    finally:
        proc.terminate()
        proc.wait(timeout=20)
