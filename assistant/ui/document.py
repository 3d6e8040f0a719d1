"""The 政策全文 tab: the document's facts and every measure, by category."""

from __future__ import annotations

import gradio as gr

from ..present import heading_of
from ..service import Assistant
from .render import category_html, document_html


def build(bot: Assistant) -> None:
    """The full-text tab (call inside ``gr.Tab``): the first document, by category."""
    doc = bot.corpus.document()
    gr.HTML(document_html(bot))
    groups = dict.fromkeys(m.category_no for m in doc.measures)
    for i, no in enumerate(groups):
        items = [m for m in doc.measures if m.category_no == no]
        with gr.Accordion(f"{heading_of(items[0]) or '条目'}　{items[0].label}–{items[-1].label}", open=i == 0):
            gr.HTML(category_html(items))
