"""The 政策全文 tab: the document's facts and every measure, by category."""

from __future__ import annotations

import gradio as gr

from ..service import Assistant
from .render import CN, category_html, document_html


def build(bot: Assistant) -> None:
    """The full-text tab (call inside ``gr.Tab``)."""
    doc = bot.corpus.document()
    gr.HTML(document_html(bot))
    for i, cat in enumerate(doc.categories):
        items = [m for m in doc.measures if m.category == cat]
        first, last_no = items[0].number, items[-1].number
        with gr.Accordion(f"（{CN[i]}）{cat}　第{first}–{last_no}条", open=i == 0):
            gr.HTML(category_html(items))
