"""The staff workspace at /staff: login, then 待处理 (review queue), 精选答案 (curated answers),
统计 (analytics) and, given a knowledge base, 文件管理 (add and remove documents). Citizens never
see it; its actions need a live session."""

from __future__ import annotations

from typing import TYPE_CHECKING

import gradio as gr

from . import analytics, curated, files, login, review

if TYPE_CHECKING:
    from ..kb import KnowledgeBase
    from ..ops import Operations


def make_staff_ui(ops: Operations, kb: KnowledgeBase | None = None) -> gr.Blocks:
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
                if kb is not None:
                    with gr.Tab("文件管理", id="files"):
                        files.build(ops.bot, kb, ops.settings.max_upload_mb, session=session, check=ops.staff.session_user)
        connect(workspace)
    return ui
