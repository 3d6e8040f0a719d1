"""The citizens' chat with an LLM configured, in headless Chromium: verified sentences stream in, a
rejected answer is replaced visibly by the extractive one, and a notice shows while the LLM is down.

The LLM is ``tests/llm_stub.py`` (a real HTTP server speaking the OpenAI protocol, scripted per
test); ``make test-llm`` repeats the outage part against the real model (tests/llm/test_llm_outage.py).
"""

from __future__ import annotations

import copy
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("headless browser tests need /usr/bin/chromium (install it with `make browser`)", allow_module_level=True)

from fastapi import FastAPI  # noqa: E402
from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402

from assistant.llm import LLMAnswerer, llm_status  # noqa: E402
from assistant.service import Assistant  # noqa: E402
from assistant.ui.chat import LLM_DOWN  # noqa: E402

from .llm_stub import StubLLM  # noqa: E402
from .test_api import LiveServer  # noqa: E402
from .test_browser import CHROMIUM_ARGS  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402

Q = "新认定的高新技术企业奖励多少钱？"  # extractive: 第22条, 10万元
FIRST = "新认定的高新技术企业可获得10万元奖励【第22条】。"
SECOND = "年销售收入首次达到2000万元的高新技术企业给予20万元补助【第22条】。"
ANSWER_TIMEOUT = 60_000


@pytest.fixture(scope="module")
def stub() -> Iterator[StubLLM]:
    s = StubLLM(FIRST).start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def llm_bot(bot: Assistant, stub: StubLLM) -> Iterator[Assistant]:
    """The session's Assistant (same index) with a real client for the stub; one failure opens the breaker."""
    fast = {"llm_breaker_failures": 1, "llm_breaker_backoff": 0.3, "llm_breaker_max_backoff": 1.0}
    settings = bot.settings.with_(llm_base_url=stub.base_url, llm_model="stub", llm_timeout=10.0, **fast)
    b = copy.copy(bot)
    b.settings = settings
    b.llm = LLMAnswerer.from_settings(settings, bot.corpus)
    yield b
    b.llm.breaker.close()


@pytest.fixture(scope="module")
def base_url(llm_bot: Assistant, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    app: FastAPI = create_app(bot=llm_bot, settings=llm_bot.settings.with_(data_dir=tmp_path_factory.mktemp("ui-llm-data")))
    with LiveServer(app) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture()
def page(browser: Browser, base_url: str, stub: StubLLM) -> Iterator[Page]:
    stub.mode, stub.reply, stub.pause = "ok", FIRST, 0.0
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    pg = context.new_page()
    pg.goto(base_url + "/", wait_until="load")
    expect(pg.locator("#pa-question textarea")).to_be_visible(timeout=30_000)
    yield pg
    context.close()


def _ask(page: Page, question: str) -> None:
    page.locator("#pa-question textarea").fill(question)
    page.locator("#pa-send").click()


def test_verified_sentences_stream_in_as_they_pass(page: Page, stub: StubLLM) -> None:
    stub.reply = FIRST + "创业失败的还可以再领8000元【第22条】。" + SECOND  # the middle sentence is invented
    stub.pause = 2.0  # the stub holds each sentence end for 2 s
    _ask(page, Q)
    bubble = page.locator("#pa-chatbot .pa-chat").last
    expect(bubble).to_contain_text(FIRST, timeout=ANSWER_TIMEOUT)
    assert SECOND not in bubble.inner_text()  # the first verified sentence shows before the model has written the rest
    expect(bubble).to_contain_text(SECOND, timeout=ANSWER_TIMEOUT)
    expect(bubble).to_contain_text("办理部门：区科技局、区财政局", timeout=ANSWER_TIMEOUT)
    expect(page.locator("#pa-cards .pa-card").first).to_be_visible(timeout=ANSWER_TIMEOUT)
    assert "8000" not in bubble.inner_text()
    assert "已改用原文摘录" not in page.locator("#pa-chatbot").inner_text()
    assert LLM_DOWN not in page.locator("#pa-llm-notice").inner_text()


def test_rejected_answer_is_replaced_visibly(page: Page, stub: StubLLM, bot: Assistant) -> None:
    stub.reply = "新认定的高新技术企业可获得8000元奖励【第22条】。"  # an amount item 22 does not have
    _ask(page, Q)
    expect(page.locator("#pa-chatbot .pa-fallback")).to_have_text("（已改用原文摘录）", timeout=ANSWER_TIMEOUT)
    expect(page.locator("#pa-cards .pa-card").first).to_be_visible(timeout=ANSWER_TIMEOUT)
    shown = page.locator("#pa-chatbot .pa-chat").last.inner_text()
    assert "10万元" in shown and "8000" not in shown
    assert shown.replace("\n", "") == bot.ask(Q).text.replace("\n", "")  # exactly the extractive answer


def test_notice_while_the_llm_is_down_and_gone_when_it_is_back(page: Page, stub: StubLLM, llm_bot: Assistant) -> None:
    stub.mode = "error"
    _ask(page, Q)
    notice = page.locator("#pa-llm-notice")
    expect(notice).to_contain_text(LLM_DOWN, timeout=ANSWER_TIMEOUT)
    expect(page.locator("#pa-chatbot .pa-chat").last).to_contain_text("10万元")
    page.screenshot(path=str(ROOT / "test-artifacts" / "chat-llm-down.png"), full_page=True)
    stub.mode = "ok"
    deadline = time.monotonic() + 15
    while llm_status(llm_bot.llm)["llm"] != "ok":  # the background probe finds the server again
        assert time.monotonic() < deadline, "the breaker did not close after the server came back"
        time.sleep(0.1)
    _ask(page, "首次创业有什么补贴")
    expect(notice).not_to_contain_text(LLM_DOWN, timeout=ANSWER_TIMEOUT)
