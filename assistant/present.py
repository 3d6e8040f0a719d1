"""Presentation shared by the API and the UI: user-facing error text, JSON views of items and
documents, deadline status and the operator's answer script. Neither ``api`` nor ``ui`` owns these,
so both import them from here.
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import TYPE_CHECKING, Any

from .errors import (
    AccessError,
    AssistantError,
    CorpusError,
    CuratedAnswerError,
    ForbiddenError,
    InvalidQuestionError,
    ReviewError,
    StorageError,
)
from .types import Deadline, Document, Measure

if TYPE_CHECKING:
    from .service import Assistant

_SENTENCE = re.compile(r"[^。！？；\n]*(?:[。！？；]|\n|$)")

# Exception class -> (HTTP status, 中文, English). "{limit}" is the question length limit and
# "{detail}" the exception's own (English, fix-it) message. The most specific class wins.
ERRORS: dict[type[BaseException], tuple[int, str, str]] = {
    InvalidQuestionError: (422, "问题为空或过长（或格式有误），请输入{limit}字以内的政策问题。", "{detail}"),
    AccessError: (401, "需要工作人员登录（或有效的访问令牌）。", "{detail}"),
    ForbiddenError: (403, "当前账号无权进行此操作。", "{detail}"),
    CuratedAnswerError: (422, "精选答案未通过校验，请按提示修改。", "{detail}"),
    ReviewError: (409, "该待办无法按此处理，请刷新后重试。", "{detail}"),
    StorageError: (503, "数据库暂时不可用，请稍后再试。", "{detail}"),
    # Only adding or removing a document raises it at run time: the file is refused, nothing changed.
    CorpusError: (422, "文件无法加入知识库（知识库未作改动）：{detail}", "{detail}"),
    AssistantError: (503, "系统暂时无法回答，请稍后再试。", "{detail}"),
    Exception: (500, "系统繁忙，请稍后再试。", "Internal server error; please try again later."),
}


def describe(exc: BaseException, *, limit: int) -> tuple[int, str, str]:
    """(status, 中文, English) for ``exc`` from ``ERRORS``; never includes a traceback."""
    for cls in type(exc).__mro__:
        if cls in ERRORS:
            status, zh, en = ERRORS[cls]
            detail = str(exc) if isinstance(exc, AssistantError) else ""
            return status, zh.format(limit=limit, detail=detail), en.format(limit=limit, detail=detail)
    return 500, "系统繁忙，请稍后再试。", "Internal server error; please try again later."


# --- JSON views of corpus records ------------------------------------------------------------


def deadline_status(m: Measure, today: _dt.date) -> str:
    """无明确期限 / 已过期（2025年底） / 未到期（2027年底）: one text per distinct date."""
    if not m.deadlines:
        return "无明确期限"
    passed = [d for d in m.deadlines if d.date < today]
    shown = passed or list(m.deadlines)
    texts = "、".join(d.text for d in _unique_dates(shown))
    return f"已过期（{texts}）" if passed else f"未到期（{texts}）"


def _unique_dates(deadlines: list[Deadline]) -> list[Deadline]:
    """First deadline per date: 2025年底 and 2025年12月31日 name the same day."""
    seen: set[_dt.date] = set()
    out = []
    for d in deadlines:
        if d.date not in seen:
            seen.add(d.date)
            out.append(d)
    return out


def key_amounts(m: Measure) -> list[str]:
    """Money amounts, then percentages, each text once (第26条 says "70%" five times)."""
    return list(dict.fromkeys([a.text for a in m.amounts] + [p.text for p in m.percents]))


def measure_summary(m: Measure, today: _dt.date) -> dict[str, Any]:
    """One search result row: enough for an operator to pick the right measure."""
    return {
        "number": m.number,
        "label": m.label,
        "title": m.title,
        "category": m.category,
        "departments": list(m.departments),
        "lead_departments": list(m.lead_departments),
        "co_departments": list(m.co_departments),
        "doc_id": m.doc_id,
        "amounts": key_amounts(m),
        "deadline_status": deadline_status(m, today),
    }


def measure_json(bot: Assistant, m: Measure, today: _dt.date) -> dict[str, Any]:
    """The full measure with parsed amounts, percents and dated deadlines."""
    return {
        **measure_summary(m, today),
        "category_no": m.category_no,
        "path": list(m.path),
        "numbering": m.numbering,
        "text": m.text,
        "amounts": [{"text": a.text, "value": a.value, "qualifier": a.qualifier, "purpose": a.purpose} for a in m.amounts],
        "percents": [{"text": p.text, "value": p.value} for p in m.percents],
        "deadlines": [{"text": d.text, "date": d.date.isoformat(), "kind": d.kind, "passed": d.date < today} for d in m.deadlines],
        "note": bot.answerer.deadline_note(m, today),
    }


def _iso(d: _dt.date | None) -> str | None:
    return d.isoformat() if d is not None else None


def document_json(bot: Assistant, doc: Document, today: _dt.date) -> dict[str, Any]:
    """The document's facts; those it does not state are null (and named in ``warnings``)."""
    return {
        "id": doc.id,
        "title": doc.title,
        "short_title": doc.short_title,
        "number": doc.number,
        "issuer": doc.issuer,
        "issued": _iso(doc.issued),
        "effective": _iso(doc.effective),
        "expires": _iso(doc.expires),
        "validity_years": doc.validity_years,
        "in_force": doc.in_force(today),
        "status": validity_status(doc, today),
        "today": today.isoformat(),
        "categories": list(doc.categories),
        "measures": len(doc.measures),
        "format": doc.format,
        "levels": list(doc.levels),
        "warnings": list(doc.warnings),
        "note": bot.answerer.document_note(doc, today),
    }


def validity_status(doc: Document, today: _dt.date) -> str:
    """在有效期内 / 已到期 / 尚未施行 / 未写明有效期."""
    state = doc.in_force(today)
    if state is None:
        return "未写明有效期"
    if state:
        return "在有效期内"
    return "已到期" if doc.expires is not None and today > doc.expires else "尚未施行"


def heading_of(m: Measure) -> str:
    """The heading an item sits under, as written: （三）激发创新创业活力; "" for an item under no heading."""
    return m.path[-1] if m.path else m.category


# --- operator script ---------------------------------------------------------------------------


SCRIPT_MAX_CHARS = 80  # read aloud in one breath (issue 14: ≤ 80 characters before the tag)


def lead_department(m: Measure) -> str:
    """Where an operator transfers the caller: the lead unit when named (牵头), else the first named bureau."""
    named = [d for d in (*m.lead_departments, *m.departments) if not d.startswith(("各", "相关"))]
    return named[0] if named else "12345政务服务便民热线"


def answer_script(bot: Assistant, m: Measure) -> str:
    """A ready-to-read reply for the hotline: what the item does (its first sentence after the heading,
    at most 80 characters before the tag), the deadline note, and whom to contact or transfer to."""
    from .compose import clauses
    from .textutil import sentences

    sents = sentences(m.text)
    # The heading sentence names the measure; the first sentence after it says what it does.
    first = sents[1] if len(sents) > 1 else (sents[0] if sents else m.title)
    key = ""
    for part in clauses(first):  # as many of its clauses as fit in a breath
        if len(key) + len(part) > SCRIPT_MAX_CHARS:
            break
        key += part
    key = (key or m.title).rstrip("，；：。！？")
    lead = lead_department(m)
    others = [d for d in m.departments if d != lead and not d.startswith(("各", "相关"))]
    note = bot.answerer.deadline_note(m, bot.clock()).removeprefix("提示：")
    return (
        f"{key}【{m.label}】。"
        + (f"\n需要提醒您：{note}" if note else "")
        + f"\n办理部门：{lead}"
        + (f"（协办：{'、'.join(others)}）" if others else "")
        + f"，可为您转接{lead}。"
    )
