"""Gradio UI: 政策问答 for citizens, 坐席查询 for hotline operators, 政策全文 to browse.

All text that reaches HTML (questions, answers, corpus text) goes through
``_esc`` first: the chat shows a typed ``<script>`` as text, it never runs.
The chat keeps the raw conversation in a ``gr.State`` and sends only rendered
HTML to the ``gr.Chatbot``, so follow-ups see exactly what was asked and said.

Gradio 6 takes CSS at launch/mount time, not in ``gr.Blocks``: pass ``css=CSS``.
"""

from __future__ import annotations

import html
import logging
import re
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import gradio as gr

from .api import deadline_status, describe, key_amounts
from .feedback import MAX_COMMENT_CHARS, FeedbackLog
from .service import Assistant
from .settings import Settings
from .types import Citation, Measure, Reply

log = logging.getLogger("assistant.ui")

EXAMPLES = ("我新开个体户能领多少补贴？", "高企认定有什么奖励？", "餐饮从业人员健康证怎么办？", "这个文件什么时候到期？")
ALL_CATEGORIES = "全部类别"
ALL_DEPARTMENTS = "全部部门"
HEADERS = ["条目", "标题", "责任单位", "关键金额", "期限状态"]
_CN = "一二三四五六七八九十"
_PENDING = '<div class="pa-chat">正在查找相关条款…</div>'
STREAM_DELAY = 0.04  # seconds between streamed sentences: fast, but visibly progressive

# Money and shares worth spotting at a glance: 5000元, 10万元, 2万元-30万元, 60%, 3个百分点.
_AMOUNT = re.compile(r"\d+(?:\.\d+)?\s*(?:万元|亿元|元|%|个百分点)")
_SENTENCE = re.compile(r"[^。！？；\n]*(?:[。！？；]|\n|$)")

CSS = """
.pa-cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(300px, 1fr)); gap: 12px; }
.pa-card { border: 1px solid var(--border-color-primary); border-radius: 10px; padding: 12px 14px;
           background: var(--block-background-fill); min-width: 0; overflow-wrap: anywhere; }
.pa-card header { display: flex; gap: 8px; align-items: baseline; flex-wrap: wrap; margin-bottom: 6px; }
.pa-label { background: var(--color-accent); color: white; border-radius: 6px; padding: 1px 8px;
            font-weight: 600; white-space: nowrap; }
.pa-meta { font-size: 0.88em; color: var(--body-text-color-subdued); margin-bottom: 6px; }
.pa-quote { border-left: 3px solid var(--color-accent); margin: 6px 0; padding: 2px 10px; }
.pa-note { font-size: 0.9em; color: #b45309; margin: 6px 0; }
.pa-card details summary { cursor: pointer; color: var(--color-accent); }
.pa-card mark, .pa-chat mark, .pa-measure mark { background: #fde68a; color: inherit; padding: 0 2px; border-radius: 3px; }
.pa-facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 14px; }
.pa-facts dt { font-weight: 600; }
.pa-facts dd { margin: 0; }
.pa-measure { border-bottom: 1px dashed var(--border-color-primary); padding: 8px 0; }
.pa-script { white-space: pre-wrap; }
@media (max-width: 640px) {
  .pa-cards { grid-template-columns: 1fr; }
  .pa-facts { grid-template-columns: 1fr; }
  .pa-examples button { flex: 1 1 100%; }
}
"""


# --- rendering (pure functions: text in, escaped HTML out) ----------------------------------


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _marked(text: str) -> str:
    """Escape, then wrap amounts in <mark> (escaping never touches digits, 元 or %)."""
    return _AMOUNT.sub(lambda m: f"<mark>{m.group(0)}</mark>", _esc(text))


def chat_html(text: str) -> str:
    """A chat message as safe HTML: escaped, amounts marked, line breaks kept."""
    return '<div class="pa-chat">' + _marked(text).replace("\n", "<br>") + "</div>"


def _chunks(text: str) -> Iterator[str]:
    """Growing prefixes of ``text``, one sentence (or line) longer each time."""
    end = 0
    for m in _SENTENCE.finditer(text):
        if m.end() > end:
            end = m.end()
            yield text[:end]
    if end < len(text):
        yield text


def citation_cards(bot: Assistant, citations: list[Citation]) -> str:
    """One card per citation: label, title, category, departments, the quote, full text on demand."""
    if not citations:
        return ""
    today = bot.clock()
    cards = []
    for c in citations:
        measure = _measure_or_none(bot, c)
        full, note = "", ""
        if measure is not None:
            full = f"<details><summary>查看{_esc(c.label)}全文</summary><p>{_marked(measure.text)}</p></details>"
            note = bot.answerer.deadline_note(measure, today)
        meta = [f"类别：{_esc(c.category)}"] if c.category else []
        if c.departments:
            meta.append(f"办理部门：{_esc('、'.join(c.departments))}")
        cards.append(
            '<article class="pa-card">'
            f'<header><span class="pa-label">{_esc(c.label)}</span><strong>{_esc(c.title)}</strong></header>'
            f'<div class="pa-meta">{" · ".join(meta)}</div>'
            f'<blockquote class="pa-quote">{_marked(c.quote)}</blockquote>'
            + (f'<div class="pa-note">{_esc(note)}</div>' if note else "")
            + full
            + "</article>"
        )
    return '<div class="pa-cards" aria-label="引用条款">' + "".join(cards) + "</div>"


def _measure_or_none(bot: Assistant, c: Citation) -> Measure | None:
    if c.item is None:
        return None
    try:
        return bot.item(c.item, c.doc_id or None)
    except KeyError:
        return None


def measure_card(bot: Assistant, m: Measure) -> str:
    """The whole measure for an operator, with its deadline status and departments."""
    status = deadline_status(m, bot.clock())
    amounts = "、".join(key_amounts(m)) or "无"
    return (
        '<article class="pa-card">'
        f'<header><span class="pa-label">{_esc(m.label)}</span><strong>{_esc(m.title)}</strong></header>'
        f'<div class="pa-meta">类别：（{_CN[m.category_no - 1]}）{_esc(m.category)} · 责任单位：{_esc("、".join(m.departments))}</div>'
        f'<div class="pa-meta">关键金额：{_marked(amounts)} · 期限状态：{_esc(status)}</div>'
        f"<p>{_marked(m.text)}</p>"
        "</article>"
    )


def lead_department(m: Measure) -> str:
    """Where an operator transfers the caller: the first named bureau (the lead unit is listed first)."""
    named = [d for d in m.departments if not d.startswith(("各", "相关"))]
    return named[0] if named else "12345政务服务便民热线"


def answer_script(bot: Assistant, m: Measure) -> str:
    """A ready-to-read reply for the hotline: what the measure says and whom to contact."""
    doc = bot.corpus.document(m.doc_id)
    lead = lead_department(m)
    others = [d for d in m.departments if d != lead and not d.startswith(("各", "相关"))]
    body = m.text[len(m.title) + 1 :] if m.text.startswith(m.title) else m.text
    sentences = [s for s in _SENTENCE.findall(body) if s.strip()]
    summary = ""
    for s in sentences:  # the first sentences up to ~160 characters: enough to read aloud
        if summary and len(summary) + len(s) > 160:
            summary += "……"
            break
        summary += s
    note = bot.answerer.deadline_note(m, bot.clock()).removeprefix("提示：")
    return (
        f"您好，您咨询的“{m.title}”属于《{doc.title}》（{doc.number}）第{m.number}条，"
        f"归在“{m.category}”这一类。主要内容是：{summary}"
        + (f"\n需要提醒您：{note}" if note else "")
        + f"\n具体请联系{lead}"
        + (f"（协办单位：{'、'.join(others)}）" if others else "")
        + f"，我现在为您转接{lead}。"
    )


def _rows(bot: Assistant, measures: list[Measure]) -> list[list[str]]:
    today = bot.clock()
    return [
        [
            m.label,
            m.title,
            "、".join(m.departments),
            _short(key_amounts(m)),
            deadline_status(m, today),
        ]
        for m in measures
    ]


def _short(items: list[str], n: int = 4) -> str:
    """The first ``n`` items for a table cell; the full list is in the measure card."""
    return "、".join(items[:n]) + ("等" if len(items) > n else "")


def document_html(bot: Assistant) -> str:
    doc = bot.corpus.document()
    today = bot.clock()
    status = "在有效期内" if doc.effective <= today <= doc.expires else ("已到期" if today > doc.expires else "尚未施行")
    facts = [
        ("文件名称", doc.title),
        ("文号", doc.number),
        ("发文机关", doc.issuer),
        ("印发日期", _date(doc.issued)),
        ("施行日期", _date(doc.effective)),
        ("有效期", f"{doc.validity_years}年"),
        ("到期日", _date(doc.expires)),
        ("当前状态", f"{status}（今天是{_date(today)}）"),
        ("措施数量", f"{len(doc.measures)}条，分{len(doc.categories)}类"),
    ]
    rows = "".join(f"<dt>{_esc(k)}</dt><dd>{_esc(v)}</dd>" for k, v in facts)
    return f'<div class="pa-card"><dl class="pa-facts">{rows}</dl></div>'


def category_html(measures: list[Measure]) -> str:
    return "".join(
        f'<div class="pa-measure"><span class="pa-label">{_esc(m.label)}</span> <strong>{_esc(m.title)}</strong>'
        f"<p>{_marked(m.text)}</p>"
        f'<div class="pa-meta">责任单位：{_esc("、".join(m.departments))}</div></div>'
        for m in measures
    )


def _date(d: Any) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def _departments(bot: Assistant) -> list[str]:
    """Departments by how many measures name them; fragments with unbalanced quotes are dropped."""
    counts = Counter(d for m in bot.corpus.measures for d in m.departments)
    return [d for d, _ in counts.most_common() if d.count("“") == d.count("”")]


# --- the app --------------------------------------------------------------------------------


def make_ui(bot: Assistant, feedback_log: FeedbackLog, settings: Settings) -> gr.Blocks:
    """Build the three-tab UI around one shared ``bot``."""
    limit = settings.max_question_chars
    doc = bot.corpus.document()

    def respond(question: str, history: list[dict[str, str]], display: list[dict[str, str]]) -> Iterator[tuple[Any, ...]]:
        """Stream one answer: echo the question, then the reply sentence by sentence, then its cards.

        A question the assistant will not take (empty, too long) leaves the chat as it was; the
        reason shows under the input box and the text stays there to be edited.
        """
        question = question or ""
        before = list(display)
        pending = [*before, {"role": "user", "content": chat_html(question)}, {"role": "assistant", "content": _PENDING}]
        if question.strip():
            yield pending, pending, history, "", "", gr.skip(), ""
        try:
            reply: Reply = bot.ask(question, history)
        except Exception as ex:  # noqa: BLE001 - shown as a message, never a traceback
            status, zh, _ = describe(ex, limit=limit)
            if status >= 500:
                log.exception("answering failed")
            yield before, before, history, question, gr.skip(), gr.skip(), f"⚠️ {zh}"
            return
        for part in _chunks(reply.text):
            shown = [*pending[:-1], {"role": "assistant", "content": chat_html(part)}]
            yield shown, shown, history, "", "", gr.skip(), ""
            time.sleep(STREAM_DELAY)
        shown = [*pending[:-1], {"role": "assistant", "content": chat_html(reply.text)}]
        history = [*history, {"role": "user", "content": question}, {"role": "assistant", "content": reply.text}]
        last = {"question": question, "answer": reply.text, "labels": [c.label for c in reply.citations]}
        yield shown, shown, history, "", citation_cards(bot, reply.citations), last, ""

    def rate(rating: str, last: dict[str, Any] | None, comment: str) -> tuple[str, str]:
        if not last:
            return "请先提问，再对回答进行评价。", comment
        try:
            feedback_log.add(last["question"], last["answer"], last["labels"], rating, comment)
        except ValueError:
            return f"留言请不超过{MAX_COMMENT_CHARS}字。", comment
        except Exception:  # noqa: BLE001
            log.exception("saving feedback failed")
            return describe(RuntimeError(), limit=limit)[1], comment
        return "感谢您的反馈！", ""

    def lookup(query: str, category: str, department: str) -> list[list[str]]:
        cat = None if category in (None, "", ALL_CATEGORIES) else category
        dep = None if department in (None, "", ALL_DEPARTMENTS) else department
        try:
            found = bot.search(query or "", category=cat, department=dep, limit=len(doc.measures) if not (query or "").strip() else 20)
        except Exception:  # noqa: BLE001
            log.exception("operator search failed")
            return []
        return _rows(bot, found)

    def show(number: Any) -> tuple[str, str]:
        try:
            m = bot.item(int(number))
        except (TypeError, ValueError, KeyError):
            return f'<div class="pa-note">没有这一条，请输入1–{len(doc.measures)}之间的条目编号。</div>', ""
        return measure_card(bot, m), answer_script(bot, m)

    def pick(evt: gr.SelectData) -> tuple[Any, str, str]:
        row = evt.row_value or []
        found = re.search(r"\d+", str(row[0])) if row else None
        if not found:
            return gr.skip(), gr.skip(), gr.skip()
        n = int(found.group(0))
        card, script = show(n)
        return n, card, script

    with gr.Blocks(title="政策通 · 政策问答助手") as ui:
        gr.Markdown(f"## 政策通 · 政策问答助手\n依据《{doc.title}》（{doc.number}）原文作答，每条回答都注明出处。")
        with gr.Tabs():
            with gr.Tab("政策问答", id="chat"):
                history = gr.State([])
                display = gr.State([])
                last = gr.State(None)
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
                        show_label=False,
                        placeholder=f"输入问题（{limit}字以内），按回车发送",
                        max_length=limit,
                        scale=5,
                        elem_id="pa-question",
                    )
                    send = gr.Button("发送", variant="primary", scale=1, min_width=80, elem_id="pa-send")
                notice = gr.Markdown(elem_id="pa-notice")
                gr.Markdown("**试试这些问题：**")
                with gr.Row(elem_classes="pa-examples"):
                    example_buttons = [gr.Button(q, size="sm", variant="secondary") for q in EXAMPLES]
                cards = gr.HTML(elem_id="pa-cards")
                with gr.Row(equal_height=True):
                    up = gr.Button("👍 有帮助", size="sm", min_width=90, elem_id="pa-up")
                    down = gr.Button("👎 没帮助", size="sm", min_width=90, elem_id="pa-down")
                    comment = gr.Textbox(
                        show_label=False,
                        placeholder="可选：告诉我们哪里不对（1000字以内）",
                        max_length=MAX_COMMENT_CHARS,
                        container=False,
                        scale=4,
                    )
                thanks = gr.Markdown(elem_id="pa-thanks")
                clear = gr.Button("清空对话", size="sm", variant="stop")

            with gr.Tab("坐席查询", id="operator"):
                with gr.Row():
                    query = gr.Textbox(
                        label="关键词或来电问题", placeholder="如：发票、首次创业、健康证", scale=3, max_length=limit, elem_id="pa-op-query"
                    )
                    category = gr.Dropdown([ALL_CATEGORIES, *doc.categories], value=ALL_CATEGORIES, label="类别", scale=1)
                    department = gr.Dropdown([ALL_DEPARTMENTS, *_departments(bot)], value=ALL_DEPARTMENTS, label="责任单位", scale=1)
                table = gr.Dataframe(
                    value=_rows(bot, list(doc.measures)),
                    headers=HEADERS,
                    type="array",
                    interactive=False,
                    wrap=True,
                    max_height=420,
                    column_widths=["70px", "24%", "24%", "20%", "16%"],
                    label="查询结果（点击一行查看全文）",
                    elem_id="pa-op-table",
                )
                with gr.Row(equal_height=True):
                    number = gr.Number(label="条目编号", precision=0, minimum=1, maximum=len(doc.measures), scale=1)
                    open_btn = gr.Button("查看该条", scale=1)
                detail = gr.HTML(elem_id="pa-op-detail")
                script = gr.Textbox(label="答复话术（可直接朗读）", lines=5, interactive=False, buttons=["copy"], elem_id="pa-op-script")

            with gr.Tab("政策全文", id="document"):
                gr.HTML(document_html(bot))
                for i, cat in enumerate(doc.categories):
                    items = [m for m in doc.measures if m.category == cat]
                    first, last_no = items[0].number, items[-1].number
                    with gr.Accordion(f"（{_CN[i]}）{cat}　第{first}–{last_no}条", open=i == 0):
                        gr.HTML(category_html(items))

        chat_io: dict[str, Any] = {
            "inputs": [msg, history, display],
            "outputs": [chatbot, display, history, msg, cards, last, notice],
            "concurrency_limit": 4,  # bot.ask is thread-safe; a few citizens may ask at once
        }
        msg.submit(respond, **chat_io)
        send.click(respond, **chat_io)
        for b, q in zip(example_buttons, EXAMPLES, strict=True):
            b.click(lambda q=q: q, None, msg).then(respond, **chat_io)
        up.click(lambda prev, c: rate("up", prev, c), [last, comment], [thanks, comment])
        down.click(lambda prev, c: rate("down", prev, c), [last, comment], [thanks, comment])
        clear.click(lambda: ([], [], [], "", None, "", ""), None, [chatbot, history, display, cards, last, thanks, notice])

        for trigger in (query.change, category.change, department.change):
            trigger(lookup, [query, category, department], table, trigger_mode="always_last", show_progress="hidden")
        table.select(pick, None, [number, detail, script])
        number.submit(show, number, [detail, script])
        open_btn.click(show, number, [detail, script])
    return ui
