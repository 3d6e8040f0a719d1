"""The 坐席查询 tab: search as you type, filters (document, category, department), the full item and a ready-to-read script."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gradio as gr

from ..present import answer_script
from ..service import Assistant
from ..types import Measure
from .render import departments, measure_card, rows

log = logging.getLogger("assistant.ui")

ALL_DOCUMENTS = "全部文件"
ALL_CATEGORIES = "全部类别"
ALL_DEPARTMENTS = "全部部门"
HEADERS = ["条目", "标题", "责任单位", "关键金额", "期限状态"]


@dataclass(frozen=True)
class Refresh:
    """What another tab calls after the knowledge base changed: ``fn`` updates ``outputs``."""

    fn: Callable[[], tuple[Any, ...]]
    outputs: list[Any]


def _choices(bot: Assistant) -> tuple[list[str], list[str], list[str]]:
    docs = [ALL_DOCUMENTS] + [f"{d.short_title}｜{d.id}" for d in bot.corpus.documents]
    cats = [ALL_CATEGORIES] + list(dict.fromkeys(c for d in bot.corpus.documents for c in d.categories))
    return docs, cats, [ALL_DEPARTMENTS, *departments(bot)]


def _doc_id(choice: str | None) -> str | None:
    return None if choice in (None, "", ALL_DOCUMENTS) else str(choice).rsplit("｜", 1)[-1]


class _Console:
    """The tab's event handlers over one ``bot``."""

    def __init__(self, bot: Assistant) -> None:
        self.bot = bot

    def lookup(self, query: str, document: str, category: str, department: str) -> tuple[list[list[str]], list[str]]:
        cat = None if category in (None, "", ALL_CATEGORIES) else category
        dep = None if department in (None, "", ALL_DEPARTMENTS) else department
        limit = len(self.bot.corpus.measures) if not (query or "").strip() else 20
        try:
            found = self.bot.search(query or "", category=cat, department=dep, doc_id=_doc_id(document), limit=limit)
        except Exception:  # noqa: BLE001
            log.exception("operator search failed")
            return [], []
        return rows(self.bot, found), [m.key for m in found]

    def card(self, m: Measure) -> tuple[str, str]:
        return measure_card(self.bot, m), answer_script(self.bot, m)

    def show(self, number: Any, document: str) -> tuple[str, str]:
        doc = self.bot.corpus.document(_doc_id(document))
        try:
            return self.card(doc.measure(int(number)))
        except (TypeError, ValueError, KeyError):
            return f'<div class="pa-note">没有这一条，请输入1–{len(doc.measures)}之间的条目编号。</div>', ""

    def pick(self, keys: list[str], evt: gr.SelectData) -> tuple[Any, str, str]:
        row = evt.index[0] if isinstance(evt.index, list | tuple) else evt.index
        if not isinstance(row, int) or not 0 <= row < len(keys):
            return gr.skip(), gr.skip(), gr.skip()
        m = self.bot.corpus.item(keys[row])
        if not isinstance(m, Measure):
            return gr.skip(), gr.skip(), gr.skip()
        return m.number, *self.card(m)

    def refresh(self) -> tuple[Any, ...]:
        d, c, p = _choices(self.bot)
        found_rows, found_keys = self.lookup("", ALL_DOCUMENTS, ALL_CATEGORIES, ALL_DEPARTMENTS)
        return (
            gr.update(choices=d, value=ALL_DOCUMENTS),
            gr.update(choices=c, value=ALL_CATEGORIES),
            gr.update(choices=p),
            found_rows,
            found_keys,
        )


def build(bot: Assistant, limit: int) -> Refresh:
    """The operator tab's components and events (call inside ``gr.Tab``)."""
    console = _Console(bot)
    doc_choices, cat_choices, dep_choices = _choices(bot)
    with gr.Row():
        query = gr.Textbox(
            label="关键词或来电问题", placeholder="如：发票、首次创业、健康证", scale=3, max_length=limit, elem_id="pa-op-query"
        )
        document = gr.Dropdown(doc_choices, value=ALL_DOCUMENTS, label="文件", scale=1, elem_id="pa-op-doc")
        category = gr.Dropdown(cat_choices, value=ALL_CATEGORIES, label="类别", scale=1)
        department = gr.Dropdown(dep_choices, value=ALL_DEPARTMENTS, label="责任单位", scale=1)
    first_rows, first_keys = console.lookup("", ALL_DOCUMENTS, ALL_CATEGORIES, ALL_DEPARTMENTS)
    keys = gr.State(first_keys)
    table = gr.Dataframe(
        value=first_rows,
        headers=HEADERS,
        type="array",
        interactive=False,
        wrap=True,
        max_height=420,
        column_widths=["70px", "24%", "24%", "20%", "16%"],
        label="查询结果（点击一行查看全文）",
        elem_id="pa-op-table",
    )
    number = gr.State(None)  # the item picked by clicking a row
    detail = gr.HTML(elem_id="pa-op-detail")
    script = gr.Textbox(label="答复话术（可直接朗读）", lines=5, interactive=False, buttons=["copy"], elem_id="pa-op-script")

    for trigger in (query.change, document.change, category.change, department.change):
        trigger(console.lookup, [query, document, category, department], [table, keys], trigger_mode="always_last", show_progress="hidden")
    table.select(console.pick, keys, [number, detail, script])
    return Refresh(console.refresh, [document, category, department, table, keys])
