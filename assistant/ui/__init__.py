"""Gradio UI, one module per tab: 政策问答 (``chat``) for citizens, 坐席查询 (``operator``) for hotline
operators, 政策全文 (``document``) to browse. HTML rendering lives in ``render``. The staff
workspace (``staff``: login, review queue, curated answers, analytics) is a separate app at /staff.

Gradio 6 takes CSS at launch/mount time, not in ``gr.Blocks``: pass ``css=CSS``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import gradio as gr

from ..feedback import FeedbackSink
from ..service import Assistant
from ..settings import Settings
from . import chat, document, operator
from .render import CSS
from .staff import make_staff_ui

if TYPE_CHECKING:
    from ..ops import Operations

__all__ = ["CSS", "make_staff_ui", "make_ui"]


def make_ui(bot: Assistant, feedback_log: FeedbackSink, settings: Settings, *, ops: Operations | None = None) -> gr.Blocks:
    """Build the UI around one shared ``bot``; with ``ops`` the chat's answers are logged."""
    limit = settings.max_question_chars
    doc = bot.corpus.document()
    with gr.Blocks(title="政策通 · 政策问答助手") as ui:
        gr.Markdown(f"## 政策通 · 政策问答助手\n依据《{doc.title}》（{doc.number}）原文作答，每条回答都注明出处。")
        with gr.Tabs():
            with gr.Tab("政策问答", id="chat"):
                chat.build(bot, feedback_log, limit, ops)
            with gr.Tab("坐席查询", id="operator"):
                operator.build(bot, limit)
            with gr.Tab("政策全文", id="document"):
                document.build(bot)
    return ui
