"""The 待处理 tab: the review queue (👎, refusals, low confidence) and its three resolutions."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import gradio as gr

from ..errors import AssistantError
from ..review import REASON_LABELS
from .login import current_user, problem
from .render import esc

if TYPE_CHECKING:
    from ..ops import Operations

HEADERS = ["编号", "时间", "原因", "问题", "回答"]
_SPLIT = re.compile(r"[,，、;；\s]+")


def _split(text: str) -> list[str]:
    return [x for x in _SPLIT.split(text or "") if x]


def _rows(ops: Operations) -> list[list[Any]]:
    out = []
    for r in ops.reviews.items(status="open", limit=200):
        reply = (r["interaction"] or {}).get("reply", "")
        reasons = "、".join(REASON_LABELS.get(x, x) for x in r["reasons"])
        out.append([r["id"], str(r["created_at"])[:16], reasons, r["question"], reply[:80]])
    return out


def detail_html(ops: Operations, item: dict[str, Any]) -> str:
    """Question, reasons, the reply with its citations, and what retrieval found."""
    inter = item["interaction"] or {}
    reasons = "、".join(REASON_LABELS.get(x, x) for x in item["reasons"])
    parts = [
        f'<div class="pa-card"><header><span class="pa-label">待办 {item["id"]}</span><strong>{esc(item["question"])}</strong></header>',
        f'<div class="pa-meta">原因：{esc(reasons)} · 状态：{esc(item["status"])}</div>',
    ]
    if inter:
        mode = inter.get("mode", "")
        conf = inter.get("confidence")
        parts.append(f'<div class="pa-meta">方式：{esc(mode)}' + (f" · 置信度 {conf:.2f}" if conf is not None else "") + "</div>")
        parts.append(f'<blockquote class="pa-quote" id="pa-rv-reply">{esc(inter.get("reply", ""))}</blockquote>')
        cited = "、".join(c["label"] for c in inter.get("citations", [])) or "无"
        parts.append(f"<div>引用：{esc(cited)}</div>")
        found = "".join(f"<li>{esc(h['label'])} {esc(_title(ops, h['key']))}（{h['score']}）</li>" for h in inter.get("retrieved", []))
        parts.append(f"<div>检索到的条款：<ol>{found or '<li>无</li>'}</ol></div>")
    return "".join(parts) + "</div>"


def _title(ops: Operations, key: str) -> str:
    try:
        item = ops.bot.corpus.item(key)
    except KeyError:
        return ""
    return getattr(item, "title", "") or getattr(item, "heading", "")


def build(ops: Operations, session: gr.State) -> None:
    refresh = gr.Button("刷新待处理列表", size="sm", elem_id="pa-rv-refresh")
    table = gr.Dataframe(headers=HEADERS, interactive=False, wrap=True, elem_id="pa-rv-table")
    chosen = gr.Number(label="待办编号（点表格中的一行）", precision=0, elem_id="pa-rv-id")
    detail = gr.HTML(elem_id="pa-rv-detail")
    with gr.Accordion("① 写一个精选答案（以后相同问题直接回答）", open=True):
        answer = gr.Textbox(label="答案（其中的数字必须出现在引用的条款里）", lines=4, elem_id="pa-rv-answer")
        cites = gr.Textbox(label="引用条款，例如：第25条, 第27条", elem_id="pa-rv-cites")
        more = gr.Textbox(label="其他问法（可选，每行一个）", lines=2, elem_id="pa-rv-questions")
        to_curated = gr.Button("保存为精选答案", variant="primary", elem_id="pa-rv-curated")
    with gr.Accordion("② 添加同义词（口语 → 文件用语）", open=False):
        colloquial = gr.Textbox(label="口语说法，例如：奶茶店", elem_id="pa-rv-colloquial")
        officials = gr.Textbox(label="文件中的说法，例如：餐饮, 个体工商户", elem_id="pa-rv-officials")
        to_synonym = gr.Button("添加同义词并生效", elem_id="pa-rv-synonym")
    with gr.Accordion("③ 政策未涵盖", open=False):
        note = gr.Textbox(label="说明（可选）", elem_id="pa-rv-note")
        to_gap = gr.Button("标记为政策未涵盖", elem_id="pa-rv-notcovered")
    result = gr.Markdown(elem_id="pa-rv-result")

    def load(token: str | None) -> tuple[Any, str]:
        try:
            current_user(ops, token)
            ops.recorder.flush()
            return _rows(ops), ""
        except AssistantError as ex:
            return gr.skip(), problem(ex)

    def pick(token: str | None, rows: Any, evt: gr.SelectData) -> tuple[Any, ...]:
        try:
            current_user(ops, token)
            rid = int(rows.iloc[evt.index[0], 0]) if hasattr(rows, "iloc") else int(rows[evt.index[0]][0])
            item = ops.reviews.item(rid)
        except (AssistantError, IndexError, ValueError, TypeError) as ex:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip(), problem(ex) if isinstance(ex, AssistantError) else "⚠️ 请选择一行。"
        inter = item["interaction"] or {}
        labels = ", ".join(c["label"] for c in inter.get("citations", []))
        return rid, detail_html(ops, item), inter.get("reply", "") if inter.get("answered") else "", labels, ""

    def act(kind: str, token: str | None, rid: Any, *fields: str) -> tuple[Any, str]:
        try:
            user = current_user(ops, token)
            if not rid:
                return gr.skip(), "⚠️ 请先在表格中选择一个待办。"
            done = _resolve(ops, kind, int(rid), user.name, *fields)
            return _rows(ops), f"✅ 已处理待办 {int(rid)}：{done}"
        except AssistantError as ex:
            return gr.skip(), problem(ex)

    refresh.click(load, [session], [table, result])
    table.select(pick, [session, table], [chosen, detail, answer, cites, result])
    to_curated.click(lambda t, r, a, c, m: act("curated", t, r, a, c, m), [session, chosen, answer, cites, more], [table, result])
    to_synonym.click(lambda t, r, c, o: act("synonym", t, r, c, o), [session, chosen, colloquial, officials], [table, result])
    to_gap.click(lambda t, r, n: act("not_covered", t, r, n), [session, chosen, note], [table, result])


def _resolve(ops: Operations, kind: str, rid: int, user: str, *fields: str) -> str:
    if kind == "curated":
        answer, cites, more = fields
        done = ops.reviews.resolve_curated(rid, user, [q for q in (more or "").splitlines() if q.strip()], answer, _split(cites))
        return f"精选答案 {done['curated_id']} 已生效"
    if kind == "synonym":
        colloquial, officials = fields
        done = ops.reviews.resolve_synonym(rid, user, colloquial, _split(officials))
        return f"同义词“{done['colloquial']}”→{'、'.join(done['officials'])} 已生效"
    ops.reviews.resolve_not_covered(rid, user, fields[0])
    return "已标记为政策未涵盖"
