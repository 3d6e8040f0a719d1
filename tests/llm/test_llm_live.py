"""End to end against a real OpenAI-compatible server (``make test-llm`` / scripts/test-llm.sh start one).

Skipped unless POLICY_LLM_BASE_URL is set. The URL is read at import time:
the autouse ``_clean_environ`` fixture removes POLICY_* variables before each test.
Timings (time to first token, to the first verified sentence, total) are
printed and written to .cache/llm-live.json.
"""

from __future__ import annotations

import json
import os
import statistics
from collections.abc import Iterator

import pytest

from assistant import Assistant, Reply, Settings
from assistant.answer import grounding_violations
from assistant.embed import Embedder
from assistant.llm import LLMAnswerer

from ..conftest import ROOT, TODAY

BASE_URL = os.environ.get("POLICY_LLM_BASE_URL")
MODEL = os.environ.get("POLICY_LLM_MODEL")
TIMEOUT = float(os.environ.get("POLICY_LLM_TIMEOUT") or 120)  # a 2-core CPU shared with other jobs can be slow

pytestmark = [
    pytest.mark.llm,
    pytest.mark.skipif(not BASE_URL, reason="needs a running LLM server: set POLICY_LLM_BASE_URL (scripts/test-llm.sh does)"),
]

LATENCY_QUESTIONS = [
    "首次创业有什么补贴",
    "新认定的高新技术企业奖励多少钱？",
    "政府采购预付款比例是多少",
    "这个文件文号是多少？",
    "省级重点实验室有什么支持？",
    "个体户开办要跑几个地方？",
]


@pytest.fixture(scope="module")
def llm_bot(settings: Settings, embedder: Embedder) -> Iterator[Assistant]:
    s = settings.with_(llm_base_url=BASE_URL, llm_model=MODEL, llm_timeout=TIMEOUT)
    yield Assistant(s, embedder=embedder, clock=lambda: TODAY)


def assert_safe(bot: Assistant, reply: Reply, extractive: Reply | None = None) -> None:
    assert grounding_violations(reply, bot.corpus) == []
    retrieved = {h.item.key for h in reply.hits}
    for c in reply.citations:
        assert c.item is None or f"{c.doc_id}#{c.item}" in retrieved
    if extractive is not None and reply.mode == "llm":
        assert {c.label for c in reply.citations} <= {c.label for c in extractive.citations}


def test_first_business_subsidy_end_to_end(llm_bot: Assistant, bot: Assistant) -> None:
    assert isinstance(llm_bot.llm, LLMAnswerer)
    reply = llm_bot.ask("首次创业有什么补贴")
    print(f"\n[{reply.mode}] {reply.text}")
    assert reply.answered and reply.mode in {"llm", "llm-fallback"}
    assert_safe(llm_bot, reply, bot.ask("首次创业有什么补贴"))
    if reply.mode == "llm":
        assert "【第25条】" in reply.text and "办理部门" in reply.text


def test_refusal_is_not_sent_to_the_llm(llm_bot: Assistant) -> None:
    reply = llm_bot.ask("公积金怎么提取？")
    assert not reply.answered and reply.mode == "extractive" and reply.citations == []


def test_condense_live(llm_bot: Assistant) -> None:
    assert isinstance(llm_bot.llm, LLMAnswerer)
    history = [
        {"role": "user", "content": "省级重点实验室有什么支持？"},
        {"role": "assistant", "content": "对新认定的省级重点实验室给予30万元经费支持。【第24条】"},
    ]
    out = llm_bot.llm.condense("那国家级的呢？", history)
    print(f"\ncondensed: {out!r}")
    assert out is None or (len(out) <= 80 and "国家级" in out)
    reply = llm_bot.ask("那国家级的呢？", history)
    assert reply.answered and 24 in [c.item for c in reply.citations]
    assert_safe(llm_bot, reply)


def test_streaming_latency(llm_bot: Assistant, bot: Assistant, capsys: pytest.CaptureFixture[str]) -> None:
    """TTFT and total latency for a few questions, streamed; every final reply is grounded."""
    assert isinstance(llm_bot.llm, LLMAnswerer)
    rows = []
    for q in LATENCY_QUESTIONS:
        ext = bot.ask(q)
        stream = llm_bot.llm.stream(q, ext.question, ext, ext.hits, TODAY)
        pieces = list(stream)
        final = stream.reply
        assert final is not None and final.mode in {"llm", "llm-fallback"}
        assert_safe(llm_bot, final, ext)
        if final.mode == "llm":
            assert "".join(pieces) == final.text
        for p in pieces:  # nothing streamed may state an ungrounded number either
            assert grounding_violations(Reply(p, True, ext.citations), bot.corpus) == []
        rows.append(
            {
                "question": q,
                "mode": final.mode,
                "ttft_s": stream.first_token_s,
                "first_sentence_s": stream.first_text_s,
                "total_s": stream.total_s,
                "text": final.text,
            }
        )
    ttft = [r["ttft_s"] for r in rows if r["ttft_s"] is not None]
    total = [r["total_s"] for r in rows if r["total_s"] is not None]
    summary = {
        "n": len(rows),
        "llm": sum(r["mode"] == "llm" for r in rows),
        "ttft_p50_s": _pct(ttft, 50),
        "ttft_p95_s": _pct(ttft, 95),
        "total_p50_s": _pct(total, 50),
        "total_p95_s": _pct(total, 95),
    }
    out = ROOT / ".cache" / "llm-live.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"summary": summary, "rows": rows}, ensure_ascii=False, indent=1), encoding="utf-8")
    with capsys.disabled():
        print()
        for r in rows:
            ft = r["first_sentence_s"]
            print(
                f"  {r['mode']:<12} TTFT {r['ttft_s'] or 0:5.1f} s  first sentence {ft if ft is not None else float('nan'):5.1f} s"
                f"  total {r['total_s']:5.1f} s  {r['question']}"
            )
        print(f"  summary: {summary}  (written to {out})")


def _pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return round(values[0], 2)
    return round(statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1], 2)
