"""The 精选答案 tab: create, edit and retire curated answers, and see who changed what."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import gradio as gr

from ..errors import AssistantError
from .login import current_user, problem
from .review import _split

if TYPE_CHECKING:
    from ..ops import Operations

HEADERS = ["编号", "状态", "版本", "示例问题", "答案", "引用", "修改人"]
HISTORY_HEADERS = ["版本", "状态", "修改人", "时间", "示例问题", "答案", "引用", "备注"]


def _label(ops: Operations, key: str) -> str:
    try:
        return ops.bot.corpus.item(key).label
    except KeyError:
        return f"{key}（已不存在）"


def _rows(ops: Operations) -> list[list[Any]]:
    rows = []
    for r in ops.curated.store.find(status=None):
        cites = "、".join(_label(ops, k) for k in r.citations)
        rows.append([r.id, "启用" if r.status == "active" else "停用", r.version, " / ".join(r.questions), r.answer, cites, r.updated_by])
    return rows


def build(ops: Operations, session: gr.State) -> None:
    refresh = gr.Button("刷新列表", size="sm", elem_id="pa-cu-refresh")
    table = gr.Dataframe(headers=HEADERS, interactive=False, wrap=True, elem_id="pa-cu-table")
    with gr.Group():
        cid = gr.Number(label="编号（留空为新建）", precision=0, elem_id="pa-cu-id")
        questions = gr.Textbox(label="示例问题（每行一个）", lines=3, elem_id="pa-cu-questions")
        answer = gr.Textbox(label="答案（其中的数字必须出现在引用的条款里）", lines=4, elem_id="pa-cu-answer")
        cites = gr.Textbox(label="引用条款，例如：第25条, 第27条", elem_id="pa-cu-cites")
        with gr.Row():
            save = gr.Button("保存", variant="primary", elem_id="pa-cu-save")
            retire = gr.Button("停用", variant="stop", elem_id="pa-cu-retire")
            history = gr.Button("查看修改记录", elem_id="pa-cu-history")
    result = gr.Markdown(elem_id="pa-cu-result")
    versions = gr.Dataframe(headers=HISTORY_HEADERS, interactive=False, wrap=True, visible=False, elem_id="pa-cu-versions")

    def load(token: str | None) -> tuple[Any, str]:
        try:
            current_user(ops, token)
            return _rows(ops), ""
        except AssistantError as ex:
            return gr.skip(), problem(ex)

    def pick(token: str | None, rows: Any, evt: gr.SelectData) -> tuple[Any, ...]:
        try:
            current_user(ops, token)
            number = int(rows.iloc[evt.index[0], 0])
        except (AssistantError, IndexError, ValueError, TypeError):
            return gr.skip(), gr.skip(), gr.skip(), gr.skip()
        r = ops.curated.store.get(number)
        if r is None:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip()
        return number, "\n".join(r.questions), r.answer, ", ".join(_label(ops, k) for k in r.citations)

    def store(token: str | None, number: Any, qs: str, text: str, refs: str) -> tuple[Any, Any, str]:
        try:
            user = current_user(ops, token)
            lines = [q for q in (qs or "").splitlines() if q.strip()]
            if not number:  # an empty gr.Number is 0 or None; curated ids start at 1
                rec = ops.curated.create(lines, text, _split(refs), user.name)
                return _rows(ops), rec.id, f"✅ 已新建精选答案 {rec.id}，立即生效。"
            rec = ops.curated.edit(int(number), lines, text, _split(refs), user.name)
            return _rows(ops), rec.id, f"✅ 精选答案 {rec.id} 已更新为第 {rec.version} 版。"
        except AssistantError as ex:
            return gr.skip(), gr.skip(), problem(ex)

    def stop(token: str | None, number: Any) -> tuple[Any, str]:
        try:
            user = current_user(ops, token)
            if not number:
                return gr.skip(), "⚠️ 请先选择要停用的精选答案。"
            rec = ops.curated.retire(int(number), user.name)
            return _rows(ops), f"✅ 精选答案 {rec.id} 已停用。"
        except AssistantError as ex:
            return gr.skip(), problem(ex)

    def show_history(token: str | None, number: Any) -> tuple[Any, str]:
        try:
            current_user(ops, token)
        except AssistantError as ex:
            return gr.skip(), problem(ex)
        if not number:
            return gr.skip(), "⚠️ 请先选择一个精选答案。"
        rows = [
            [
                v["version"],
                v["status"],
                v["author"],
                str(v["created_at"])[:19],
                " / ".join(v["questions"]),
                v["answer"],
                "、".join(v["citations"]),
                v["note"] or "",
            ]
            for v in ops.curated.store.history(int(number))
        ]
        return gr.update(value=rows, visible=True), ""

    refresh.click(load, [session], [table, result])
    table.select(pick, [session, table], [cid, questions, answer, cites])
    save.click(store, [session, cid, questions, answer, cites], [table, cid, result])
    retire.click(stop, [session, cid], [table, result])
    history.click(show_history, [session, cid], [versions, result])
