"""The 政策全文 tab: one document's facts and every item, grouped by the heading it sits under."""

from __future__ import annotations

from typing import Any

import gradio as gr

from ..present import heading_of
from ..service import Assistant
from .operator import Refresh
from .render import category_html, document_html, esc


def full_html(bot: Assistant, doc_id: str | None) -> str:
    """Facts, then one collapsible group per heading (the first one open)."""
    try:
        doc = bot.corpus.document(doc_id or None)
    except KeyError:
        doc = bot.corpus.document()
    groups = list(dict.fromkeys(m.category_no for m in doc.measures))
    parts = [document_html(bot, doc.id)]
    for i, no in enumerate(groups):
        items = [m for m in doc.measures if m.category_no == no]
        summary = f"{heading_of(items[0]) or '条目'}　{items[0].label}–{items[-1].label}"
        parts.append(
            f'<details class="pa-card"{" open" if i == 0 else ""}><summary>{esc(summary)}</summary>{category_html(items)}</details>'
        )
    return "".join(parts)


def _choices(bot: Assistant) -> list[tuple[str, str]]:
    return [(f"{d.short_title}｜{d.title}", d.id) for d in bot.corpus.documents]


def build(bot: Assistant) -> Refresh:
    """The full-text tab (call inside ``gr.Tab``); the returned ``Refresh`` updates it after the knowledge base changes."""
    first = bot.corpus.documents[0].id
    choice = gr.Dropdown(_choices(bot), value=first, label="文件", elem_id="pa-doc-choice", visible=len(bot.corpus.documents) > 1)
    body = gr.HTML(full_html(bot, first), elem_id="pa-doc-body")
    choice.change(lambda doc_id: full_html(bot, doc_id), choice, body)

    def refresh() -> tuple[Any, ...]:
        docs = bot.corpus.documents
        return gr.update(choices=_choices(bot), value=docs[0].id, visible=len(docs) > 1), full_html(bot, docs[0].id)

    return Refresh(refresh, [choice, body])
