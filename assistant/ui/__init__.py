"""Gradio UI, one module per tab: 政策问答 (``chat``) for citizens, 坐席查询 (``operator``) for hotline
operators, 政策全文 (``document``) to browse. HTML rendering lives in ``render``. The staff
workspace (``staff``: login, review queue, curated answers, analytics, 文件管理 ``files``) is a
separate app at /staff.

Gradio 6 takes CSS at launch/mount time, not in ``gr.Blocks``: pass ``css=CSS``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import gradio as gr

from ..feedback import FeedbackSink
from ..kb import KnowledgeBase
from ..service import Assistant
from ..settings import Settings
from . import chat, document, files, operator
from .render import CSS
from .staff import make_staff_ui

if TYPE_CHECKING:
    from ..ops import Operations

__all__ = ["CSS", "make_staff_ui", "make_ui"]


def make_ui(
    bot: Assistant, feedback_log: FeedbackSink, settings: Settings, *, ops: Operations | None = None, kb: KnowledgeBase | None = None
) -> gr.Blocks:
    """Build the citizens' and operators' UI around one shared ``bot``; with ``ops`` the chat's answers
    are logged; with ``kb`` a 文件管理 tab is added here too (the app puts it in the staff workspace)."""
    limit = settings.max_question_chars
    docs = bot.corpus.documents
    source = f"《{docs[0].title}》（{docs[0].number or docs[0].short_title}）" if len(docs) == 1 else f"已收录的{len(docs)}份政策文件"
    with gr.Blocks(title="政策通 · 政策问答助手") as ui:
        gr.Markdown(f"## 政策通 · 政策问答助手\n依据{source}原文作答，每条回答都注明出处。")
        with gr.Tabs():
            with gr.Tab("政策问答", id="chat"):
                chat.build(bot, feedback_log, limit, ops)
            with gr.Tab("坐席查询", id="operator"):
                refresh = operator.build(bot, limit)
            with gr.Tab("政策全文", id="document"):
                full_text = document.build(bot)
            if kb is not None:
                with gr.Tab("文件管理", id="files"):
                    changed = files.build(bot, kb, settings.max_upload_mb)
                for r in (refresh, full_text):  # other tabs follow the knowledge base
                    changed.change(r.fn, None, r.outputs)
        for r in (refresh, full_text):  # a page opened after documents were added or removed shows them
            ui.load(r.fn, None, r.outputs)
    return ui
