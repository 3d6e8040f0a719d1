"""HTML rendering for the UI: pure functions, text in, escaped HTML out.

All text that reaches HTML (questions, answers, corpus text) goes through
``esc`` first: the chat shows a typed ``<script>`` as text, it never runs.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

from ..present import deadline_status, heading_of, key_amounts, validity_status
from ..service import Assistant
from ..types import Citation, Measure, Reply

CN = "一二三四五六七八九十"
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
.pa-related { border-style: dashed; }
.pa-related-head { font-size: 0.92em; color: var(--body-text-color-subdued); margin: 4px 0 8px; }
.pa-card details summary { cursor: pointer; color: var(--color-accent); }
details.pa-card { margin: 8px 0; }
details.pa-card > summary { cursor: pointer; font-weight: 600; }
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


def esc(text: str) -> str:
    return html.escape(text, quote=True)


def marked(text: str) -> str:
    """Escape, then wrap amounts in <mark> (escaping never touches digits, 元 or %)."""
    return _AMOUNT.sub(lambda m: f"<mark>{m.group(0)}</mark>", esc(text))


def chat_html(text: str) -> str:
    """A chat message as safe HTML: escaped, amounts marked, line breaks kept."""
    return '<div class="pa-chat">' + marked(text).replace("\n", "<br>") + "</div>"


def chunks(text: str) -> Iterator[str]:
    """Growing prefixes of ``text``, one sentence (or line) longer each time."""
    end = 0
    for m in _SENTENCE.finditer(text):
        if m.end() > end:
            end = m.end()
            yield text[:end]
    if end < len(text):
        yield text


def reply_cards(bot: Assistant, reply: Reply) -> str:
    """The cards under a reply: its citations, or for "未找到直接规定" the items that may be related.

    Related items are suggestions, not citations, and are headed as such so nobody reads them as
    the answer.
    """
    if reply.citations:
        return citation_cards(bot, reply.citations)
    if not reply.related:
        return ""
    head = '<div class="pa-related-head">可能相关的条款（仅供参考，不是对您问题的直接答复）：</div>'
    return head + citation_cards(bot, reply.related, css="pa-card pa-related")


def citation_cards(bot: Assistant, citations: list[Citation], css: str = "pa-card") -> str:
    """One card per citation: label, title, category, departments, the quote, full text on demand."""
    if not citations:
        return ""
    today = bot.clock()
    cards = []
    for c in citations:
        measure = measure_or_none(bot, c)
        full, note = "", ""
        if measure is not None:
            full = f"<details><summary>查看{esc(c.label)}全文</summary><p>{marked(measure.text)}</p></details>"
            note = bot.answerer.deadline_note(measure, today)
        meta = [f"类别：{esc(c.category)}"] if c.category else []
        if c.departments:
            meta.append(f"办理部门：{esc('、'.join(c.departments))}")
        cards.append(
            f'<article class="{css}">'
            f'<header><span class="pa-label">{esc(c.label)}</span><strong>{esc(c.title)}</strong></header>'
            f'<div class="pa-meta">{" · ".join(meta)}</div>'
            + (f'<blockquote class="pa-quote">{marked(c.quote)}</blockquote>' if c.quote else "")
            + (f'<div class="pa-note">{esc(note)}</div>' if note else "")
            + full
            + "</article>"
        )
    return '<div class="pa-cards" aria-label="引用条款">' + "".join(cards) + "</div>"


def measure_or_none(bot: Assistant, c: Citation) -> Measure | None:
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
        f'<header><span class="pa-label">{esc(m.label)}</span><strong>{esc(m.title)}</strong></header>'
        f'<div class="pa-meta">类别：{esc(heading_of(m))} · {departments_html(m)}</div>'
        f'<div class="pa-meta">关键金额：{marked(amounts)} · 期限状态：{esc(status)}</div>'
        f"<p>{marked(m.text)}</p>"
        "</article>"
    )


def rows(bot: Assistant, measures: list[Measure]) -> list[list[str]]:
    """Search result rows; with several documents the label names the document too (as citations do)."""
    today = bot.clock()
    label = bot.answerer.label
    return [[label(m), m.title, "、".join(m.departments), short(key_amounts(m)), deadline_status(m, today)] for m in measures]


def short(items: list[str], n: int = 4) -> str:
    """The first ``n`` items for a table cell; the full list is in the measure card."""
    return "、".join(items[:n]) + ("等" if len(items) > n else "")


def document_html(bot: Assistant, doc_id: str | None = None) -> str:
    """The document's facts; those it does not state show as 未写明."""
    doc = bot.corpus.document(doc_id)
    today = bot.clock()
    missing = "未写明"
    facts = [
        ("文件名称", doc.title),
        ("文号", doc.number or missing),
        ("发文机关", doc.issuer or missing),
        ("印发日期", date(doc.issued) if doc.issued else missing),
        ("施行日期", date(doc.effective) if doc.effective else missing),
        ("有效期", f"{doc.validity_years}年" if doc.validity_years else missing),
        ("到期日", date(doc.expires) if doc.expires else missing),
        ("当前状态", f"{validity_status(doc, today)}（今天是{date(today)}）"),
        ("措施数量", f"{len(doc.measures)}条，分{len(doc.categories)}类"),
    ]
    body = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in facts)
    return f'<div class="pa-card"><dl class="pa-facts">{body}</dl></div>'


def departments_html(m: Measure) -> str:
    """责任单位：A、B, or 牵头：A · 配合：B, C when the document names a lead."""
    if m.lead_departments:
        text = f"牵头单位：{'、'.join(m.lead_departments)}" + (f" · 配合单位：{'、'.join(m.co_departments)}" if m.co_departments else "")
        return esc(text)
    return esc(f"责任单位：{'、'.join(m.departments) or '未写明'}")


def category_html(measures: list[Measure]) -> str:
    return "".join(
        f'<div class="pa-measure"><span class="pa-label">{esc(m.label)}</span> <strong>{esc(m.title)}</strong>'
        f"<p>{marked(m.text)}</p>"
        f'<div class="pa-meta">{departments_html(m)}</div></div>'
        for m in measures
    )


def date(d: Any) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def departments(bot: Assistant) -> list[str]:
    """Departments by how many measures name them; fragments with unbalanced quotes are dropped."""
    counts = Counter(d for m in bot.corpus.measures for d in m.departments)
    return [d for d, _ in counts.most_common() if d.count("“") == d.count("”")]
