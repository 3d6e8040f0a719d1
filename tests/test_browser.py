"""The Gradio UI in headless Chromium: the real app, clicked and typed into like a person would.

Screenshots go to test-artifacts/ (git-ignored) so a human can check the layout.
"""

from __future__ import annotations

import re
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(
        "headless browser tests need /usr/bin/chromium (install it with `make browser` or `apt-get install chromium`)",
        allow_module_level=True,
    )

import httpx  # noqa: E402
import uvicorn  # noqa: E402
from fastapi import FastAPI  # noqa: E402
from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402

from assistant.service import Assistant  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # app.py sits at the repo root, outside the package
    sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402

from .test_api import LiveServer  # noqa: E402

ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
EXAMPLE = "我新开个体户能领多少补贴？"
ANSWER_TIMEOUT = 60_000  # ms; the first question also warms the embedder on a 2-core machine


@pytest.fixture(scope="module")
def live_bot(bot: Assistant) -> Assistant:
    """The session's real Assistant from conftest (one index build for the whole run)."""
    return bot


@pytest.fixture(scope="module")
def live_app(live_bot: Assistant, tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    return create_app(bot=live_bot, settings=live_bot.settings.with_(data_dir=tmp_path_factory.mktemp("ui-data")))


@pytest.fixture(scope="module")
def base_url(live_app: FastAPI) -> Iterator[str]:
    with LiveServer(live_app) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture()
def page(browser: Browser, base_url: str) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    pg = context.new_page()
    pg.goto(base_url + "/", wait_until="load")
    expect(pg.locator("#pa-question textarea")).to_be_visible(timeout=30_000)
    yield pg
    context.close()


def _ask(page: Page, question: str) -> None:
    page.locator("#pa-question textarea").fill(question)
    page.locator("#pa-send").click()


def _last_bot_message(page: Page) -> str:
    return page.locator("#pa-chatbot .pa-chat").last.inner_text()


def test_chat_answers_example_with_citation_card(page: Page, base_url: str, live_app: FastAPI) -> None:
    _ask(page, EXAMPLE)
    card = page.locator("#pa-cards .pa-card", has=page.locator(".pa-label", has_text="第25条"))
    expect(card).to_be_visible(timeout=ANSWER_TIMEOUT)
    expect(page.locator("#pa-chatbot")).to_contain_text("【第25条】")
    assert "5000元" in _last_bot_message(page)
    expect(card.locator("mark", has_text="5000元").first).to_be_visible()
    card.locator("summary").click()  # the full measure text opens in place
    expect(card.locator("details")).to_contain_text("健全首次创业扶持政策")
    page.screenshot(path=str(ARTIFACTS / "chat.png"), full_page=True)

    page.locator("#pa-up").click()  # 👍 reaches the feedback log
    expect(page.locator("#pa-thanks")).to_contain_text("感谢", timeout=10_000)
    staff = live_app.state.ops.staff
    staff.add_user("reviewer", "correct horse battery")
    token = staff.issue_token("reviewer")
    exported = httpx.get(base_url + "/api/feedback/export", headers={"Authorization": f"Bearer {token}"}).text
    assert EXAMPLE in exported and '"rating": "up"' in exported


def test_operator_search_opens_measure_10(page: Page) -> None:
    page.get_by_role("tab", name="坐席查询").click()
    page.locator("#pa-op-query textarea").fill("发票")
    table = page.locator("#pa-op-table")
    rows = table.get_by_role("row").filter(has=page.get_by_role("gridcell"))  # body rows, not the header
    expect(rows.first).to_contain_text("第10条", timeout=ANSWER_TIMEOUT)
    expect(table).not_to_contain_text("第84条")  # the list narrowed from all 84 measures
    table.get_by_role("gridcell").filter(has_text="第10条").first.click()
    detail = page.locator("#pa-op-detail")
    expect(detail).to_contain_text("优化发票领用服务", timeout=20_000)
    expect(detail).to_contain_text("新办企业首次申领发票")
    script = page.locator("#pa-op-script textarea")
    expect(script).to_have_value(re.compile("第10条"), timeout=10_000)  # a regex matches anywhere
    said = script.input_value()
    assert "区税务局" in said and said.startswith("新办企业首次申领发票") and len(said.split("【")[0]) <= 80
    page.screenshot(path=str(ARTIFACTS / "operator.png"), full_page=True)


def test_html_in_question_is_shown_as_text(page: Page) -> None:
    payload = '<script>window.__xss=1</script><img src=x onerror="window.__xss2=1">首次创业有什么补贴？'
    _ask(page, payload)
    user = page.locator("#pa-chatbot .pa-chat").first
    expect(user).to_contain_text("<script>window.__xss=1</script>", timeout=ANSWER_TIMEOUT)
    expect(user).to_contain_text('<img src=x onerror="window.__xss2=1">')
    expect(page.locator("#pa-chatbot .pa-chat")).to_have_count(2, timeout=ANSWER_TIMEOUT)
    page.wait_for_timeout(500)  # give any injected handler a chance to run
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.evaluate("typeof window.__xss2") == "undefined"
    assert page.locator("#pa-chatbot img[src='x'], #pa-chatbot script").count() == 0
    page.screenshot(path=str(ARTIFACTS / "xss.png"), full_page=True)


def test_empty_question_is_explained_and_chat_left_alone(page: Page) -> None:
    page.locator("#pa-question textarea").fill("   ")
    page.locator("#pa-send").click()
    expect(page.locator("#pa-notice")).to_contain_text("问题为空或过长", timeout=ANSWER_TIMEOUT)
    assert page.locator("#pa-chatbot .pa-chat").count() == 0


def test_document_tab_shows_facts(page: Page) -> None:
    page.get_by_role("tab", name="政策全文").click()
    expect(page.get_by_text("万政〔2022〕15号").first).to_be_visible()
    expect(page.get_by_text("2027年6月22日")).to_be_visible()
    page.get_by_text("（四）加大财税支持力度").click()
    expect(page.get_by_text("延续升级自主减税政策", exact=True)).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "document.png"), full_page=True)


def test_phone_width_layout(browser: Browser, base_url: str) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(base_url + "/", wait_until="load")
    page.get_by_role("button", name="高企认定有什么奖励？").click()  # an example question, one tap
    cards = page.locator("#pa-cards .pa-card")
    expect(cards.first).to_be_visible(timeout=ANSWER_TIMEOUT)
    assert cards.count() >= 2
    boxes = [cards.nth(i).bounding_box() for i in range(2)]
    assert boxes[0] and boxes[1] and boxes[1]["y"] > boxes[0]["y"]  # stacked, not side by side
    assert all(b["x"] >= 0 and b["x"] + b["width"] <= 391 for b in boxes if b)
    assert page.evaluate("document.documentElement.scrollWidth") <= 391  # no sideways scrolling
    page.screenshot(path=str(ARTIFACTS / "phone.png"), full_page=True)
    context.close()


@pytest.fixture(scope="module")
def files_url(bot: Assistant, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An app over a corpus folder of its own, so the 文件管理 tab can add to it."""
    import shutil

    from assistant import Settings

    from .conftest import CORPUS, TODAY

    root = tmp_path_factory.mktemp("files-ui")
    (root / "corpus").mkdir()
    for path in [CORPUS / "wanbailin-2022-15.txt", *CORPUS.glob("*.toml")]:
        shutil.copy(path, root / "corpus" / path.name)
    shutil.copytree(bot.settings.index_dir / "embeddings-cache", root / "index" / "embeddings-cache")
    settings = Settings(corpus_dir=root / "corpus", index_dir=root / "index", data_dir=root / "data")
    own = Assistant(settings, embedder=bot.embedder, clock=lambda: TODAY)
    app = create_app(bot=own, settings=settings)
    app.state.ops.staff.add_user("librarian", "correct horse battery")  # 文件管理 is in the staff workspace
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    host, port = server.servers[0].sockets[0].getsockname()[:2]
    yield f"http://{host}:{port}"
    server.should_exit = True
    thread.join(timeout=15)


def test_files_tab_previews_adds_and_answers(browser: Browser, files_url: str, files: dict[str, Path]) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, locale="zh-CN")
    page = context.new_page()
    page.goto(files_url + "/staff/", wait_until="load")
    page.locator("#pa-login-name").locator("input, textarea").first.fill("librarian")
    page.locator("#pa-login-password").locator("input, textarea").first.fill("correct horse battery")
    page.locator("#pa-login-submit").click()
    expect(page.locator("#pa-whoami")).to_contain_text("librarian", timeout=20_000)
    page.get_by_role("tab", name="文件管理").click()
    page.locator("#pa-files-upload input[type=file]").set_input_files(str(files["plan.docx"]))
    expect(page.locator("#pa-files-preview")).to_contain_text("柏政办发〔2021〕8号", timeout=ANSWER_TIMEOUT)
    expect(page.locator("#pa-files-preview")).to_contain_text("一、 → （一） → 1.")
    expect(page.get_by_role("gridcell").filter(has_text="（一）第1条").first).to_be_visible()
    expect(page.get_by_role("gridcell").filter(has_text="区政府办公室").first).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "files-preview.png"), full_page=True)
    page.locator("#pa-files-commit").click()
    expect(page.locator("#pa-files-status")).to_contain_text("已加入", timeout=180_000)
    page.goto(files_url + "/", wait_until="load")  # the citizens' page opened now shows the new document
    page.get_by_role("tab", name="政策问答").click()
    _ask(page, "惠企政策清单要逐项标注哪些内容？")
    expect(page.locator("#pa-chatbot .pa-chat").last).to_contain_text("柏政办发〔2021〕8号（一）第1条", timeout=ANSWER_TIMEOUT)
    page.get_by_role("tab", name="坐席查询").click()
    page.locator("#pa-op-doc input").click()
    page.get_by_role("option", name=re.compile("plan-2021")).click()
    expect(page.locator("#pa-op-table")).to_contain_text("柏政办发〔2021〕8号（二）第1条", timeout=20_000)
    expect(page.locator("#pa-op-table")).not_to_contain_text("万政〔2022〕15号")
    page.screenshot(path=str(ARTIFACTS / "files-operator.png"), full_page=True)
    page.get_by_role("tab", name="政策全文").click()
    page.locator("#pa-doc-choice input").click()
    page.get_by_role("option", name=re.compile("柏政办发")).click()
    expect(page.locator("#pa-doc-body")).to_contain_text("2021年12月31日", timeout=20_000)
    page.get_by_text("（二）围绕保障改善民生加强公开").click()
    expect(page.get_by_text("公开社会救助信息", exact=True)).to_be_visible()
    context.close()
