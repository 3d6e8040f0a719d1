"""The staff workspace at /staff: login, then 待处理 (review queue), 精选答案 (curated answers),
统计 (analytics). Citizens never see it; its actions need a live session."""

from __future__ import annotations

from typing import TYPE_CHECKING

import gradio as gr

from . import analytics, curated, login, review

if TYPE_CHECKING:
    from ..ops import Operations


def make_staff_ui(ops: Operations) -> gr.Blocks:
    with gr.Blocks(title="政策通 · 工作台") as ui:
        gr.Markdown("## 政策通 · 工作台\n处理用户反馈和未回答的问题，维护精选答案，查看统计。")
        session = gr.State(None)
        connect = login.build(ops, session)
        with gr.Column(visible=False, elem_id="pa-workspace") as workspace:
            with gr.Tabs():
                with gr.Tab("待处理", id="review"):
                    review.build(ops, session)
                with gr.Tab("精选答案", id="curated"):
                    curated.build(ops, session)
                with gr.Tab("统计", id="analytics"):
                    analytics.build(ops, session)
        connect(workspace)
    return ui
