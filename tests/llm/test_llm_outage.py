"""The real LLM server dies mid-run, then hangs mid-run: what a citizen, an operator and the log see.

Starts its own ``llama_cpp.server`` (the model ``scripts/test-llm.sh`` assembled; the shared server
is left alone), serves the app with the chat in LLM mode, and

1. kills the server (SIGKILL, like the crash of issue 15) while it is answering a question: that
   question and the next fall back, the breaker opens, and then questions cost what extractive ones
   cost and are not sent; ``/healthz`` says "down" with the error and since when; the chat in the
   browser shows the notice and the extractive answers; a restarted server is found by the
   background probe and used again, and the notice goes away;
2. stops the server (SIGSTOP: a hung server, the expensive case) while it is answering: two
   timeouts open the breaker and after that no question waits; SIGCONT brings it back.

The log says "down" once per outage. Timings are printed and written to .cache/llm-outage.json.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from assistant import Assistant, Reply
from assistant.llm import LLMAnswerer, llm_status

from ..conftest import ROOT

pytestmark = [pytest.mark.llm, pytest.mark.slow]

STATE = ROOT / ".cache" / "llm-server.json"  # written by scripts/llm_server.py: the model test-llm.sh assembled
CHROMIUM = Path("/usr/bin/chromium")
FACTS = {  # answerable questions, a fact the extractive answer states, the item it cites
    "首次创业有什么补贴": ("5000元", 25),
    "新认定的高新技术企业奖励多少钱？": ("10万元", 22),
    "政府采购预付款比例是多少": ("80%", 9),
    "省级重点实验室有什么支持？": ("30万元", 24),
    "个体户开办要跑几个地方？": ("一个工作日", 3),
}


def _model_path() -> Path | None:
    if os.environ.get("LLM_MODEL_PATH"):
        return Path(os.environ["LLM_MODEL_PATH"])
    try:
        return Path(json.loads(STATE.read_text())["model_path"])
    except (OSError, ValueError, KeyError):
        return None


def _llama_cpp_missing() -> str:
    r = subprocess.run([sys.executable, "-c", "import llama_cpp.server.app"], capture_output=True, timeout=120)
    return "" if r.returncode == 0 else "llama_cpp is not installed in this venv (scripts/test-llm.sh installs it)"


if not os.environ.get("POLICY_LLM_BASE_URL"):
    pytest.skip("needs a local LLM setup: run `make test-llm` (it sets POLICY_LLM_BASE_URL)", allow_module_level=True)
MODEL = _model_path()
if MODEL is None or not MODEL.is_file():
    pytest.skip("needs the local model: run `make test-llm` (or set LLM_MODEL_PATH to the .gguf file)", allow_module_level=True)
if reason := _llama_cpp_missing():
    pytest.skip(reason, allow_module_level=True)


class LocalServer:
    """``python -m llama_cpp.server`` in its own process group on a fixed loopback port."""

    def __init__(self, model: Path, port: int, log: Path) -> None:
        self.model, self.port, self.log = model, port, log
        self.url = f"http://127.0.0.1:{port}/v1"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 180) -> float:
        """Start it and wait for one short completion; the seconds that took."""
        cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(self.model), "--host", "127.0.0.1"]
        cmd += ["--port", str(self.port), "--n_threads", os.environ.get("LLM_THREADS") or "2", "--n_ctx", "4096"]  # as test-llm.sh
        t0 = time.monotonic()
        with open(self.log, "ab") as f:
            self.proc = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        while time.monotonic() - t0 < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"llama_cpp.server exited with {self.proc.returncode}; see {self.log}")
            try:
                body = {"messages": [{"role": "user", "content": "你好"}], "max_tokens": 4}
                if httpx.post(f"{self.url}/chat/completions", json=body, timeout=timeout).status_code == 200:
                    return time.monotonic() - t0
            except httpx.HTTPError:
                time.sleep(0.5)
        raise RuntimeError(f"llama_cpp.server did not answer within {timeout} s; see {self.log}")

    def signal(self, sig: signal.Signals) -> None:
        if self.proc is not None:
            os.killpg(self.proc.pid, sig)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.signal(signal.SIGCONT)
            self.signal(signal.SIGKILL)
            self.proc.wait(timeout=30)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    assert MODEL is not None
    s = LocalServer(MODEL, _free_port(), tmp_path_factory.mktemp("llm") / "server.log")
    s.start()
    yield s
    s.kill()


def _make_llm_bot(bot: Assistant, server: LocalServer, **kw: Any) -> Assistant:
    fast = {"llm_timeout": 120.0, "llm_breaker_failures": 2, "llm_breaker_backoff": 2.0, "llm_breaker_max_backoff": 8.0}
    settings = bot.settings.with_(llm_base_url=server.url, llm_model="local", **{**fast, **kw})
    b = copy.copy(bot)  # the session's index; only the LLM differs
    b.settings = settings
    b.llm = LLMAnswerer.from_settings(settings, bot.corpus)
    return b


def _timed_replies(b: Assistant, questions: list[str]) -> tuple[list[float], list[Reply]]:
    times, replies = [], []
    for q in questions:
        t0 = time.perf_counter()
        replies.append(b.ask(q))
        times.append(time.perf_counter() - t0)
    return times, replies


def _wait(cond: Callable[[], bool], timeout: float, what: str) -> float:
    t0 = time.monotonic()
    while not cond():
        if time.monotonic() - t0 > timeout:
            raise AssertionError(f"{what}: not within {timeout} s")
        time.sleep(0.2)
    return time.monotonic() - t0


def _ask_in_flight(b: Assistant, question: str, server: LocalServer, sig: signal.Signals) -> tuple[Any, float]:
    """Ask in a thread and send ``sig`` to the server 1.5 s later, while it is reading the prompt."""
    out: dict[str, Any] = {}

    def run() -> None:
        t0 = time.perf_counter()
        stream = b.ask_stream(question)
        list(stream)
        out["stream"], out["s"] = stream, time.perf_counter() - t0

    t = threading.Thread(target=run)
    t.start()
    time.sleep(1.5)
    server.signal(sig)
    t.join(timeout=300)
    return out["stream"], out["s"]


def _assert_extractive(replies: list[Reply], questions: list[str], extractive: dict[str, Reply]) -> None:
    for q, r in zip(questions, replies, strict=True):
        ext = extractive[q]
        assert r.mode != "llm" and r.text == ext.text and r.citations == ext.citations, q
        fact, item = FACTS[q]
        assert fact in r.text and item in [c.item for c in r.citations], q


def test_server_killed_then_hung_mid_run(
    bot: Assistant, server: LocalServer, tmp_path: Path, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.INFO, logger="assistant.llm")
    questions = list(FACTS) * 2
    extractive = {q: bot.ask(q) for q in FACTS}
    base, _ = _timed_replies(bot, questions)
    figures: dict[str, Any] = {"extractive_median_ms": round(statistics.median(base) * 1000, 1)}
    b = _make_llm_bot(bot, server)

    sys.path.insert(0, str(ROOT))
    from app import create_app

    from ..test_api import LiveServer

    app = create_app(bot=b, settings=b.settings.with_(data_dir=tmp_path))
    with LiveServer(app) as url, httpx.Client(base_url=url, timeout=60) as http:
        # -- the server answers ----------------------------------------------------------
        t0 = time.perf_counter()
        stream = b.ask_stream("首次创业有什么补贴")
        list(stream)
        figures["answer_while_up_s"] = round(time.perf_counter() - t0, 1)
        assert stream.outcome in ("llm", "rejected"), stream.outcome  # the server answered
        assert http.get("/healthz").json()["llm"] == "ok"

        # -- 1. killed while answering ------------------------------------------------------
        stream, s = _ask_in_flight(b, "新认定的高新技术企业奖励多少钱？", server, signal.SIGKILL)
        figures["in_flight_when_killed_s"] = round(s, 1)
        assert stream.outcome == "error" and stream.reply.text == extractive["新认定的高新技术企业奖励多少钱？"].text
        assert b.ask("省级重点实验室有什么支持？").mode == "llm-fallback"  # the second failure opens the breaker
        assert llm_status(b.llm)["llm"] == "down"
        skipped0 = b.llm.status().skipped
        times, replies = _timed_replies(b, questions)
        figures["killed_median_ms"] = round(statistics.median(times) * 1000, 1)
        figures["killed_max_ms"] = round(max(times) * 1000, 1)
        _assert_extractive(replies, questions, extractive)
        assert b.llm.status().skipped - skipped0 == len(questions)  # none of them was sent to the server
        assert statistics.median(times) < statistics.median(base) + 0.1

        h = http.get("/healthz").json()
        assert h["status"] == "degraded" and h["llm"] == "down" and "Connection" in h["llm_error"], h
        figures["healthz_down"] = h

        if CHROMIUM.exists():
            _browser_sees_the_notice(url, expect_down=True)

        # -- back: restarted on the same port, found by the background probe -----------------
        figures["restart_s"] = round(server.start(), 1)
        figures["resumed_after_restart_s"] = round(_wait(lambda: llm_status(b.llm)["llm"] == "ok", 60, "breaker closes"), 1)
        stream = b.ask_stream("个体户开办要跑几个地方？")
        list(stream)
        assert stream.outcome in ("llm", "rejected"), stream.outcome
        assert http.get("/healthz").json()["status"] == "ok"
        if CHROMIUM.exists():
            _browser_sees_the_notice(url, expect_down=False)

        # -- 2. hung while answering (SIGSTOP): timeouts are what the breaker saves --------------
        b.llm.breaker.close()
        b.llm = _make_llm_bot(bot, server, llm_timeout=5.0).llm
        stream, s = _ask_in_flight(b, "政府采购预付款比例是多少", server, signal.SIGSTOP)
        first = [s]
        t0 = time.perf_counter()
        assert b.ask("首次创业有什么补贴").mode == "llm-fallback"
        first.append(time.perf_counter() - t0)
        figures["hung_first_two_s"] = [round(x, 1) for x in first]
        assert llm_status(b.llm)["llm"] == "down" and first[1] >= 5.0
        times, replies = _timed_replies(b, questions)
        figures["hung_median_ms"] = round(statistics.median(times) * 1000, 1)
        figures["hung_max_ms"] = round(max(times) * 1000, 1)
        _assert_extractive(replies, questions, extractive)
        assert statistics.median(times) < statistics.median(base) + 0.1 and sum(times) < 5.0 * len(times) / 2
        server.signal(signal.SIGCONT)
        figures["resumed_after_sigcont_s"] = round(_wait(lambda: llm_status(b.llm)["llm"] == "ok", 300, "breaker closes"), 1)
        b.llm.breaker.close()

    down = [r.getMessage() for r in caplog.records if r.name == "assistant.llm" and r.levelno >= logging.WARNING]
    back = [r.getMessage() for r in caplog.records if "answering again" in r.getMessage()]
    figures["log_warnings"] = down
    assert len(down) == 2 and all(" down after 2 consecutive failures" in m for m in down)  # one per outage
    assert len(back) == 2
    out = ROOT / ".cache" / "llm-outage.json"
    out.write_text(json.dumps(figures, ensure_ascii=False, indent=1), encoding="utf-8")
    with capsys.disabled():
        print(f"\n  outage figures: {json.dumps(figures, ensure_ascii=False)}")


def _browser_sees_the_notice(url: str, *, expect_down: bool) -> None:
    from playwright.sync_api import expect, sync_playwright

    from ..test_browser import CHROMIUM_ARGS

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        page.goto(url + "/", wait_until="load")
        notice = page.locator("#pa-llm-notice")
        page.locator("#pa-question textarea").fill("首次创业有什么补贴")
        page.locator("#pa-send").click()
        expect(page.locator("#pa-cards .pa-card").first).to_be_visible(timeout=180_000)
        if expect_down:
            assert "5000元" in page.locator("#pa-chatbot .pa-chat").last.inner_text()  # the extractive answer
            expect(notice).to_contain_text("生成模式暂不可用，已使用原文摘录", timeout=10_000)
            page.screenshot(path=str(ROOT / "test-artifacts" / "chat-llm-killed.png"), full_page=True)
        else:
            expect(notice).not_to_contain_text("生成模式暂不可用", timeout=10_000)
        browser.close()
