"""The staff workspace (/staff) in headless Chromium: login, the review queue turning a 👎 into a
curated answer that the citizens' chat then gives, and creating a curated answer by hand."""

from __future__ import annotations

import copy
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, Page, expect, sync_playwright

from app import create_app
from assistant.service import Assistant

from .test_api import LiveServer
from .test_browser import ANSWER_TIMEOUT, ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, _ask, _last_bot_message  # skips without chromium

PASSWORD = "correct horse battery"
QUESTION = "开个体户营业执照当天能办下来吗"
CURATED = "个体工商户开办一站式同步办理营业执照、印章和发票，一个工作日内办结。"


@pytest.fixture(scope="module")
def staff_app(bot: Assistant, tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    served = copy.copy(bot)  # curated answers made here must not reach other tests' Assistant
    app = create_app(bot=served, settings=bot.settings.with_(data_dir=tmp_path_factory.mktemp("staff-data")))
    app.state.ops.staff.add_user("clerk", PASSWORD)
    return app


@pytest.fixture(scope="module")
def base_url(staff_app: FastAPI) -> Iterator[str]:
    with LiveServer(staff_app) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert CHROMIUM.exists()
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


def _page(browser: Browser, url: str) -> Page:
    page = browser.new_context(viewport={"width": 1280, "height": 1000}, locale="zh-CN").new_page()
    page.goto(url, wait_until="load")
    return page


def _field(page: Page, elem_id: str) -> object:
    return page.locator(f"#{elem_id}").locator("input, textarea").first


def _login(browser: Browser, base_url: str, password: str = PASSWORD) -> Page:
    page = _page(browser, base_url + "/staff/")
    _field(page, "pa-login-name").fill("clerk")  # type: ignore[attr-defined]
    _field(page, "pa-login-password").fill(password)  # type: ignore[attr-defined]
    page.locator("#pa-login-submit").click()
    return page


def test_login_refuses_a_wrong_password_then_opens_the_workspace(browser: Browser, base_url: str) -> None:
    page = _login(browser, base_url, "wrong password!")
    expect(page.locator("#pa-login-message")).to_contain_text("用户名或密码错误", timeout=20_000)
    expect(page.locator("#pa-workspace")).to_be_hidden()
    page.context.close()
    page = _login(browser, base_url)
    expect(page.locator("#pa-whoami")).to_contain_text("已登录：clerk", timeout=20_000)
    expect(page.get_by_role("tab", name="待处理")).to_be_visible()
    expect(page.locator("#pa-login")).to_be_hidden()
    page.screenshot(path=str(ARTIFACTS / "staff-login.png"), full_page=True)
    page.context.close()


def test_a_down_vote_becomes_a_curated_answer_in_the_citizens_chat(browser: Browser, base_url: str) -> None:
    citizen = _page(browser, base_url + "/")
    _ask(citizen, QUESTION)
    expect(citizen.locator("#pa-chatbot .pa-chat")).to_have_count(2, timeout=ANSWER_TIMEOUT)
    expect(citizen.locator("#pa-cards .pa-card").first).to_be_visible(timeout=ANSWER_TIMEOUT)  # the reply is complete
    first = _last_bot_message(citizen)
    citizen.locator("#pa-down").click()
    expect(citizen.locator("#pa-thanks")).to_contain_text("感谢", timeout=10_000)

    staff = _login(browser, base_url)
    expect(staff.locator("#pa-whoami")).to_contain_text("clerk", timeout=20_000)
    staff.locator("#pa-rv-refresh").click()
    row = staff.locator("#pa-rv-table").get_by_role("gridcell").filter(has_text=QUESTION).first
    expect(row).to_be_visible(timeout=20_000)
    expect(staff.locator("#pa-rv-table")).to_contain_text("没帮助")
    row.click()
    expect(staff.locator("#pa-rv-detail")).to_contain_text(QUESTION, timeout=20_000)
    expect(staff.locator("#pa-rv-detail")).to_contain_text("检索到的条款")
    assert first.strip()[:10] in staff.locator("#pa-rv-detail").inner_text()
    _field(staff, "pa-rv-answer").fill(CURATED)  # type: ignore[attr-defined]
    _field(staff, "pa-rv-cites").fill("第3条")  # type: ignore[attr-defined]
    staff.locator("#pa-rv-curated").click()
    expect(staff.locator("#pa-rv-result")).to_contain_text("✅", timeout=30_000)
    staff.screenshot(path=str(ARTIFACTS / "staff-review.png"), full_page=True)
    staff.context.close()

    citizen.context.close()
    citizen = _page(browser, base_url + "/")  # another citizen, later
    _ask(citizen, QUESTION)
    card = citizen.locator("#pa-cards .pa-card", has=citizen.locator(".pa-label", has_text="第3条"))
    expect(card).to_be_visible(timeout=ANSWER_TIMEOUT)
    assert _last_bot_message(citizen).startswith(CURATED)
    citizen.screenshot(path=str(ARTIFACTS / "staff-curated-in-chat.png"), full_page=True)
    citizen.context.close()


def test_curated_answer_created_in_the_curated_tab_is_served(browser: Browser, base_url: str) -> None:
    page = _login(browser, base_url)
    page.get_by_role("tab", name="精选答案").click()
    _field(page, "pa-cu-questions").fill("评上高新技术企业有奖金吗")  # type: ignore[attr-defined]
    _field(page, "pa-cu-answer").fill("对新认定的高新技术企业奖励8000元。")  # type: ignore[attr-defined]
    _field(page, "pa-cu-cites").fill("第22条")  # type: ignore[attr-defined]
    page.locator("#pa-cu-save").click()
    expect(page.locator("#pa-cu-result")).to_contain_text("8000元", timeout=20_000)  # not in 第22条: refused, saying which number
    _field(page, "pa-cu-answer").fill("对新认定的高新技术企业奖励10万元。")  # type: ignore[attr-defined]
    _field(page, "pa-cu-cites").fill("第99条")  # type: ignore[attr-defined]
    page.locator("#pa-cu-save").click()
    expect(page.locator("#pa-cu-result")).to_contain_text("does not exist", timeout=20_000)
    _field(page, "pa-cu-cites").fill("第22条")  # type: ignore[attr-defined]
    page.locator("#pa-cu-save").click()
    expect(page.locator("#pa-cu-result")).to_contain_text("已新建精选答案", timeout=20_000)
    expect(page.locator("#pa-cu-table")).to_contain_text("评上高新技术企业有奖金吗")
    page.screenshot(path=str(ARTIFACTS / "staff-curated.png"), full_page=True)
    page.context.close()
    reply = httpx.post(base_url + "/api/ask", json={"question": "评上高新技术企业有奖金吗？"}, timeout=60).json()
    assert reply["mode"] == "curated" and reply["text"].startswith("对新认定的高新技术企业奖励10万元。")
    assert [c["label"] for c in reply["citations"]] == ["第22条"]
