"""The dashboard in real headless Chromium: open the tree, expand a province, open a unit,
download its 汇总表, watch the page refresh itself; take a screenshot of the overview (into
docs/dashboard.png only with TUIJIAN_UPDATE_DOCS=1, else into the test's tmp folder).

Needs Playwright for Python and Debian's chromium (`make browser-test` installs both);
skips cleanly when either is missing.
"""

import os
import shutil
import threading
import time
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from core.db import session_scope
from models import Stage
from tests.conftest import MINI_CAMPAIGN, ROOT
from tests.support import databases
from tests.support.smtp import free_port
from tests.tasks.status_factories import populate

sync_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    pytest.skip("Debian's chromium is not installed (make browser-test installs it)",
                allow_module_level=True)

pytestmark = pytest.mark.slow
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
DOCS_SCREENSHOT = ROOT / "docs" / "dashboard.png"


def screenshot_path(tmp_path: Path) -> Path:
    """docs/dashboard.png when asked for (TUIJIAN_UPDATE_DOCS=1), else a throwaway file."""
    return DOCS_SCREENSHOT if os.environ.get("TUIJIAN_UPDATE_DOCS") == "1" else tmp_path / "dashboard.png"


@pytest.fixture
def server(sqlite_db, tmp_path):
    """The dashboard on 127.0.0.1 (a free port) over the mini campaign in a known state."""
    import uvicorn

    from tasks.dashboard_app import create_app

    slug = databases.install(MINI_CAMPAIGN)
    scene = populate(slug, tmp_path / "out")
    port = free_port()
    uv = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port,
                                       log_level="warning"))
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not uv.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)  # waiting for the server's socket, not for a result
    assert uv.started, "the dashboard did not start"
    yield f"http://127.0.0.1:{port}/c/{slug}", scene
    uv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def page():
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 1360, "height": 900}, locale="zh-CN",
                                      accept_downloads=True)
        yield context.new_page()
        context.close()
        browser.close()


def test_tree_unit_page_and_download(server, page, tmp_path):
    url, _ = server
    page.goto(url)
    assert page.locator("h1").inner_text().startswith("测试示范项目（虚构）")
    chain = page.locator("#chain")
    city_b = chain.get_by_role("link", name="乙市")
    assert not city_b.is_visible()  # provinces start collapsed
    chain.locator('details[data-code="110000"] > summary').click()
    assert city_b.is_visible()
    row = chain.locator("li.leaf", has=page.get_by_role("link", name="乙市"))
    assert "逾期 overdue" in row.inner_text() and "专家评审" in row.inner_text()

    chain.get_by_role("link", name="甲市").click()
    page.wait_for_url("**/u/110100")
    assert "甲体验公司" in page.locator("#entries").inner_text()
    with page.expect_download() as info:
        page.locator("#documents").get_by_role("link", name="汇总表（信息消费体验中心）").click()
    download = info.value
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    assert download.suggested_filename == "110100-汇总表-experience_centre.xlsx"
    sheet = load_workbook(saved).active
    assert sheet["A2"].value == "推荐单位：甲市" and sheet["C4"].value == "甲体验中心"


def test_page_refreshes_itself_and_keeps_opened_branches(server, page):
    url, scene = server
    page.goto(url + "?refresh=1")
    page.locator('details[data-code="110000"] > summary').click()
    with session_scope() as s:
        stage = s.exec(select(Stage).where(Stage.id == scene.stages["110200"])).one()
        stage.state = "forwarded"
        s.add(stage)
    late = page.locator("#late")
    late.get_by_text("没有逾期单位").wait_for(timeout=15000)  # the fetch loop brought new data
    assert page.locator('details[data-code="110000"]').get_attribute("open") is not None
    assert page.locator("#chain").get_by_role("link", name="乙市").is_visible()


def test_screenshot_is_saved_for_the_docs(server, page, tmp_path):
    url, _ = server
    page.goto(url)
    page.locator('details[data-code="110000"] > summary').click()
    shot = screenshot_path(tmp_path)
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 20_000


def test_the_docs_screenshot_is_written_only_when_asked(monkeypatch, tmp_path):
    monkeypatch.delenv("TUIJIAN_UPDATE_DOCS", raising=False)
    assert screenshot_path(tmp_path) == tmp_path / "dashboard.png"
    monkeypatch.setenv("TUIJIAN_UPDATE_DOCS", "1")
    assert screenshot_path(tmp_path) == DOCS_SCREENSHOT
