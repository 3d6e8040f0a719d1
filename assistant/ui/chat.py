"""The 政策问答 tab: the citizens' chat with streaming replies, citation cards and feedback.

The chat keeps the raw conversation in a ``gr.State`` and sends only rendered
HTML to the ``gr.Chatbot``, so follow-ups see exactly what was asked and said.

With an LLM configured, the reply streams the sentences that pass verification
(``Assistant.ask_stream``); when the model's answer is not used, the extractive
answer replaces it under a visible "已改用原文摘录", and while the LLM is down
(its circuit breaker is open) a notice above the chat says so.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import gradio as gr

from ..feedback import MAX_COMMENT_CHARS, FeedbackSink
from ..llm import llm_status
from ..present import describe
from ..service import Assistant
from ..types import Reply
from .render import chat_html, chunks, reply_cards

if TYPE_CHECKING:
    from ..ops import Operations

log = logging.getLogger("assistant.ui")

EXAMPLES = ("我新开个体户能领多少补贴？", "高企认定有什么奖励？", "餐饮从业人员健康证怎么办？", "这个文件什么时候到期？")
_PENDING = '<div class="pa-chat">正在查找相关条款…</div>'
STREAM_DELAY = 0.04  # seconds between streamed sentences: fast, but visibly progressive
LLM_DOWN = "生成模式暂不可用，已使用原文摘录"
FALLBACK = '<div class="pa-fallback">（已改用原文摘录）</div>'  # above the extractive text that replaced the model's
NOTICE_EVERY = 10.0  # seconds between status checks of an open page, so the notice also goes away by itself


def llm_notice(bot: Assistant) -> str:
    """The notice shown while the configured LLM is down ("" otherwise)."""
    return LLM_DOWN if llm_status(bot.llm)["llm"] == "down" else ""


def build(bot: Assistant, feedback_log: FeedbackSink, limit: int, ops: Operations | None = None) -> None:
    """The chat tab's components and events (call inside ``gr.Tab``); with ``ops`` every answer is logged."""

    def respond(
        question: str, history: list[dict[str, str]], display: list[dict[str, str]], request: gr.Request
    ) -> Iterator[tuple[Any, ...]]:
        """Stream one answer: echo the question, then the reply sentence by sentence, then its cards.

        A question the assistant will not take (empty, too long) leaves the chat as it was; the
        reason shows under the input box and the text stays there to be edited.
        """
        question = question or ""
        before = list(display)
        pending = [*before, {"role": "user", "content": chat_html(question)}, {"role": "assistant", "content": _PENDING}]
        if question.strip():
            yield pending, pending, history, "", "", gr.skip(), "", gr.skip()
        streamed, head = "", ""
        try:
            t0 = time.perf_counter()
            if bot.llm is None:
                reply: Reply = bot.ask(question, history)
            else:
                stream = bot.ask_stream(question, history)
                for piece in stream:  # verified sentences, as the model writes them
                    streamed += piece
                    shown = [*pending[:-1], {"role": "assistant", "content": chat_html(streamed)}]
                    yield shown, shown, history, "", "", gr.skip(), "", gr.skip()
                if stream.reply is None:  # set when the iteration ends; cannot happen
                    raise RuntimeError("the answer stream ended without a reply")
                reply = stream.reply
                head = FALLBACK if stream.outcome in ("rejected", "error") else ""
            rid = _record(ops, reply, question, history, time.perf_counter() - t0, request)
        except Exception as ex:  # noqa: BLE001 - shown as a message, never a traceback
            status, zh, _ = describe(ex, limit=limit)
            if status >= 500:
                log.exception("answering failed")
            yield before, before, history, question, gr.skip(), gr.skip(), f"⚠️ {zh}", gr.skip()
            return
        if not streamed and not head:  # extractive (or the LLM skipped while down): sentence by sentence as before
            for part in chunks(reply.text):
                shown = [*pending[:-1], {"role": "assistant", "content": chat_html(part)}]
                yield shown, shown, history, "", "", gr.skip(), "", gr.skip()
                time.sleep(STREAM_DELAY)
        shown = [*pending[:-1], {"role": "assistant", "content": head + chat_html(reply.text)}]
        history = [*history, {"role": "user", "content": question}, {"role": "assistant", "content": reply.text}]
        last = {"question": question, "answer": reply.text, "labels": [c.label for c in reply.citations], "id": rid}
        yield shown, shown, history, "", reply_cards(bot, reply), last, "", llm_notice(bot)

    def rate(rating: str, last: dict[str, Any] | None, comment: str) -> tuple[str, str]:
        if not last:
            return "请先提问，再对回答进行评价。", comment
        try:
            link = {"interaction_id": last.get("id"), "source": "chat"} if ops is not None else {}
            feedback_log.add(last["question"], last["answer"], last["labels"], rating, comment, **link)
        except ValueError:
            return f"留言请不超过{MAX_COMMENT_CHARS}字。", comment
        except Exception:  # noqa: BLE001
            log.exception("saving feedback failed")
            return describe(RuntimeError(), limit=limit)[1], comment
        return "感谢您的反馈！", ""

    history = gr.State([])
    display = gr.State([])
    last = gr.State(None)
    if bot.llm is not None:  # re-read on page load and every few seconds while the page is open
        status_notice = gr.Markdown(lambda: llm_notice(bot), every=NOTICE_EVERY, elem_id="pa-llm-notice")
    else:
        status_notice = gr.Markdown("", elem_id="pa-llm-notice")
    chatbot = gr.Chatbot(
        label="政策问答",
        height=440,
        render_markdown=False,
        sanitize_html=True,
        allow_tags=False,
        latex_delimiters=[],
        feedback_options=None,
        placeholder="请输入您想了解的政策问题，例如：首次创业有什么补贴？",
        elem_id="pa-chatbot",
    )
    with gr.Row(equal_height=True):
        msg = gr.Textbox(
            show_label=False, placeholder=f"输入问题（{limit}字以内），按回车发送", max_length=limit, scale=5, elem_id="pa-question"
        )
        send = gr.Button("发送", variant="primary", scale=1, min_width=80, elem_id="pa-send")
    notice = gr.Markdown(elem_id="pa-notice")
    gr.Markdown("**试试这些问题：**")
    with gr.Row(elem_classes="pa-examples"):
        example_buttons = [gr.Button(q, size="sm", variant="secondary") for q in EXAMPLES]
    cards = gr.HTML(elem_id="pa-cards")
    with gr.Row(equal_height=True):
        up = gr.Button("有帮助", size="sm", min_width=90, elem_id="pa-up")
        down = gr.Button("没帮助", size="sm", min_width=90, elem_id="pa-down")
        comment = gr.Textbox(
            show_label=False, placeholder="可选：告诉我们哪里不对（1000字以内）", max_length=MAX_COMMENT_CHARS, container=False, scale=4
        )
    thanks = gr.Markdown(elem_id="pa-thanks")
    clear = gr.Button("清空对话", size="sm", variant="stop")

    chat_io: dict[str, Any] = {
        "inputs": [msg, history, display],
        "outputs": [chatbot, display, history, msg, cards, last, notice, status_notice],
        "concurrency_limit": 4,  # bot.ask is thread-safe; a few citizens may ask at once
    }
    msg.submit(respond, **chat_io)
    send.click(respond, **chat_io)
    for b, q in zip(example_buttons, EXAMPLES, strict=True):
        b.click(lambda q=q: q, None, msg).then(respond, **chat_io)
    up.click(lambda prev, c: rate("up", prev, c), [last, comment], [thanks, comment])
    down.click(lambda prev, c: rate("down", prev, c), [last, comment], [thanks, comment])
    clear.click(lambda: ([], [], [], "", None, "", ""), None, [chatbot, history, display, cards, last, thanks, notice])


def _record(
    ops: Operations | None, reply: Reply, question: str, history: list[Any], seconds: float, request: gr.Request | None
) -> str | None:
    """Log the answer (the serving edge logs, ``Assistant.ask`` does not); its id for feedback."""
    if ops is None:
        return None
    host = request.client.host if request is not None and request.client else None
    return ops.recorder.record(reply, question, history, latency_ms=seconds * 1000, channel="chat", client=ops.client(host))
