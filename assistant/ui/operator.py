"""The 坐席查询 tab: search as you type, filters, the full measure and a ready-to-read script."""

from __future__ import annotations

import logging
import re
from typing import Any

import gradio as gr

from ..present import answer_script
from ..service import Assistant
from .render import departments, measure_card, rows

log = logging.getLogger("assistant.ui")

ALL_CATEGORIES = "全部类别"
ALL_DEPARTMENTS = "全部部门"
HEADERS = ["条目", "标题", "责任单位", "关键金额", "期限状态"]


def build(bot: Assistant, limit: int) -> None:
    """The operator tab's components and events (call inside ``gr.Tab``)."""
    doc = bot.corpus.document()

    def lookup(query: str, category: str, department: str) -> list[list[str]]:
        cat = None if category in (None, "", ALL_CATEGORIES) else category
        dep = None if department in (None, "", ALL_DEPARTMENTS) else department
        try:
            found = bot.search(query or "", category=cat, department=dep, limit=len(doc.measures) if not (query or "").strip() else 20)
        except Exception:  # noqa: BLE001
            log.exception("operator search failed")
            return []
        return rows(bot, found)

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

    with gr.Row():
        query = gr.Textbox(
            label="关键词或来电问题", placeholder="如：发票、首次创业、健康证", scale=3, max_length=limit, elem_id="pa-op-query"
        )
        category = gr.Dropdown([ALL_CATEGORIES, *doc.categories], value=ALL_CATEGORIES, label="类别", scale=1)
        department = gr.Dropdown([ALL_DEPARTMENTS, *departments(bot)], value=ALL_DEPARTMENTS, label="责任单位", scale=1)
    table = gr.Dataframe(
        value=rows(bot, list(doc.measures)),
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

    for trigger in (query.change, category.change, department.change):
        trigger(lookup, [query, category, department], table, trigger_mode="always_last", show_progress="hidden")
    table.select(pick, None, [number, detail, script])
    number.submit(show, number, [detail, script])
    open_btn.click(show, number, [detail, script])
