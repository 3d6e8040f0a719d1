"""Gradio UI, one module per tab: 政策问答 (``chat``) for citizens, 坐席查询 (``operator``) for hotline
operators, 政策全文 (``document``) to browse. HTML rendering lives in ``render``.

Gradio 6 takes CSS at launch/mount time, not in ``gr.Blocks``: pass ``css=CSS``.
"""

from __future__ import annotations

import gradio as gr

from ..feedback import FeedbackLog
from ..service import Assistant
from ..settings import Settings
from . import chat, document, operator
from .render import CSS

__all__ = ["CSS", "make_ui"]


def make_ui(bot: Assistant, feedback_log: FeedbackLog, settings: Settings) -> gr.Blocks:
    """Build the UI around one shared ``bot``."""
    limit = settings.max_question_chars
    doc = bot.corpus.document()
    with gr.Blocks(title="政策通 · 政策问答助手") as ui:
        gr.Markdown(f"## 政策通 · 政策问答助手\n依据《{doc.title}》（{doc.number}）原文作答，每条回答都注明出处。")
        with gr.Tabs():
            with gr.Tab("政策问答", id="chat"):
                chat.build(bot, feedback_log, limit)
            with gr.Tab("坐席查询", id="operator"):
                operator.build(bot, limit)
            with gr.Tab("政策全文", id="document"):
                document.build(bot)
    return ui
