"""The 文件管理 tab: operators upload a policy document, check how it was read, add it, or remove one.

An upload is type-checked and size-limited, then parsed *without* changing anything: the preview
shows every item as it will be cited (label, heading, title, lead and co-operating departments, the
text) and the warnings (facts the document does not state). Only 确认加入 copies it into the corpus
folder and re-indexes (the embedding cache means only its own text is embedded); a failure leaves the
knowledge base as it was. ``build`` takes everything as parameters, so the tab can be mounted on its
own page behind a login (``make_page``).
"""

from __future__ import annotations

import datetime as _dt
import html
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gradio as gr

from ..ingest import SUPPORTED
from ..kb import KnowledgeBase, validate_upload
from ..present import describe, validity_status
from ..service import Assistant
from ..types import Document

log = logging.getLogger("assistant.ui")

ITEM_HEADERS = ["条目", "所在标题", "标题", "牵头单位", "配合/责任单位", "原文"]
DOC_HEADERS = ["文件ID", "文号/简称", "标题", "条目数", "印发日期", "到期日", "状态", "提示"]


def document_rows(bot: Assistant) -> list[list[Any]]:
    today = bot.clock()
    return [
        [
            d.id,
            d.number or d.short_title,
            d.title,
            len(d.measures),
            _day(d.issued),
            _day(d.expires),
            validity_status(d, today),
            len(d.warnings),
        ]
        for d in bot.corpus.documents
    ]


def _day(d: _dt.date | None) -> str:
    return d.isoformat() if d else "未写明"


def item_rows(doc: Document) -> list[list[str]]:
    return [
        [
            m.label,
            " / ".join(m.path),
            m.title,
            "、".join(m.lead_departments),
            "、".join(m.co_departments if m.lead_departments else m.departments),
            m.text if len(m.text) <= 160 else m.text[:160] + "……",
        ]
        for m in doc.measures
    ]


def preview_html(doc: Document) -> str:
    facts = [
        ("文件", f"《{doc.title}》"),
        ("文号", doc.number or "未写明"),
        ("发文机关", doc.issuer or "未写明"),
        ("印发日期", _day(doc.issued)),
        ("施行日期", _day(doc.effective)),
        ("到期日", _day(doc.expires)),
        ("编号层级", " → ".join(doc.levels)),
        ("条目", f"{len(doc.measures)}条（{doc.measures[0].label} … {doc.measures[-1].label}），{len(doc.categories)}个标题"),
    ]
    body = "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in facts)
    warnings = "".join(f"<li>{html.escape(w)}</li>" for w in doc.warnings)
    note = f'<div class="pa-note">请核对以下提示（不影响加入）：<ul>{warnings}</ul></div>' if warnings else ""
    return f'<div class="pa-card"><dl class="pa-facts">{body}</dl>{note}</div>'


class _Manager:
    """The tab's event handlers over one ``bot`` and its knowledge base."""

    def __init__(self, bot: Assistant, kb: KnowledgeBase, max_bytes: int, check: Callable[[Any], Any] | None = None) -> None:
        self.bot, self.kb, self.max_bytes, self.check = bot, kb, max_bytes, check

    def allowed(self, session: Any) -> str:
        """ "" when the caller may change the knowledge base, else why not (staff login expired …)."""
        if self.check is None:
            return ""
        try:
            self.check(session)
        except Exception as ex:  # noqa: BLE001 - shown to the operator
            return _failure(ex)
        return ""

    def refreshed(self) -> tuple[Any, Any]:
        rows = document_rows(self.bot)
        return rows, gr.update(choices=[r[0] for r in rows], value=None)

    def preview(self, path: str | None, session: Any = None) -> tuple[Any, ...]:
        if denied := self.allowed(session):
            return "", [], gr.update(interactive=False), None, denied
        if not path:
            return "", [], gr.update(interactive=False), None, ""
        try:
            validate_upload(Path(path).name, Path(path).read_bytes(), self.max_bytes)
            doc = self.kb.preview(Path(path))
        except Exception as ex:  # noqa: BLE001 - shown to the operator, never a traceback
            return "", [], gr.update(interactive=False), None, _failure(ex)
        return preview_html(doc), item_rows(doc), gr.update(interactive=True), path, "解析完成，请核对条目后点击“确认加入知识库”。"

    def commit(self, path: str | None, version: float, session: Any = None) -> tuple[Any, ...]:
        if denied := self.allowed(session):
            return gr.skip(), gr.skip(), denied, gr.skip(), gr.skip(), version
        if not path:
            return gr.skip(), gr.skip(), "请先上传文件。", gr.skip(), gr.skip(), version
        try:
            change = self.kb.add([Path(path)])
            self.bot.reload()
        except Exception as ex:  # noqa: BLE001
            return gr.skip(), gr.skip(), _failure(ex), gr.skip(), gr.skip(), version
        doc = change.documents[0]
        rows, choices = self.refreshed()
        done = (
            f"已加入《{doc.title}》（{len(doc.measures)}条），用时{change.seconds:.1f}秒，"
            f"新嵌入{change.embedded}段文本。现在可以在“政策问答”中提问。"
        )
        return rows, choices, done, gr.update(interactive=False), None, version + 1

    def remove(self, doc_id: str | None, version: float, session: Any = None) -> tuple[Any, ...]:
        if denied := self.allowed(session):
            return gr.skip(), gr.skip(), denied, version
        if not doc_id:
            return gr.skip(), gr.skip(), "请先选择要删除的文件。", version
        try:
            change = self.kb.remove(doc_id)
            self.bot.reload()
        except Exception as ex:  # noqa: BLE001
            return gr.skip(), gr.skip(), _failure(ex), version
        rows, choices = self.refreshed()
        return rows, choices, f"已删除 {doc_id}，用时{change.seconds:.1f}秒。", version + 1


def build(
    bot: Assistant, kb: KnowledgeBase, max_upload_mb: int, *, session: gr.State | None = None, check: Callable[[Any], Any] | None = None
) -> gr.Number:
    """The tab's components and events (call inside ``gr.Tab``); returns a counter that changes after every add or remove.

    In the staff workspace, ``check(session)`` runs before every change and must raise when the login is not valid.
    """
    manager = _Manager(bot, kb, max_upload_mb * 1_000_000, check)
    extra = [session] if session is not None else []
    kinds = sorted(SUPPORTED)
    gr.Markdown(
        f"上传政策文件（{' '.join(kinds)}，不超过{max_upload_mb}MB）。先预览解析结果，确认无误后再加入知识库。扫描件请先做文字识别（OCR）。"
    )
    upload = gr.File(label="选择文件", file_types=kinds, type="filepath", elem_id="pa-files-upload")
    summary = gr.HTML(elem_id="pa-files-preview")
    items = gr.Dataframe(
        headers=ITEM_HEADERS, type="array", interactive=False, wrap=True, max_height=380, label="解析出的条目（引用时的编号）"
    )
    with gr.Row():
        commit_btn = gr.Button("确认加入知识库", variant="primary", interactive=False, elem_id="pa-files-commit")
    status = gr.Markdown(elem_id="pa-files-status")
    staged = gr.State(None)
    version = gr.Number(0, visible=False)
    docs = gr.Dataframe(value=document_rows(bot), headers=DOC_HEADERS, type="array", interactive=False, wrap=True, label="知识库中的文件")
    with gr.Row(equal_height=True):
        to_remove = gr.Dropdown([r[0] for r in document_rows(bot)], label="选择要删除的文件", scale=3, elem_id="pa-files-remove-id")
        remove_btn = gr.Button("删除该文件", variant="stop", scale=1, elem_id="pa-files-remove")

    upload.change(manager.preview, [upload, *extra], [summary, items, commit_btn, staged, status])
    commit_btn.click(manager.commit, [staged, version, *extra], [docs, to_remove, status, commit_btn, staged, version])
    remove_btn.click(manager.remove, [to_remove, version, *extra], [docs, to_remove, status, version])
    return version


def _failure(ex: BaseException) -> str:
    status, zh, _ = describe(ex, limit=0)
    if status >= 500:
        log.exception("document management failed", exc_info=ex)
    return f"⚠️ {zh}"


def make_page(bot: Assistant, kb: KnowledgeBase, max_upload_mb: int) -> gr.Blocks:
    """The tab as a page of its own, e.g. to mount at /admin behind a login."""
    with gr.Blocks(title="政策通 · 文件管理") as page:
        build(bot, kb, max_upload_mb)
    return page
