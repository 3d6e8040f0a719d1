"""Fields extracted from an item's text: money amounts, percentages and dated deadlines."""

from __future__ import annotations

import calendar
import datetime as _dt
import re

from ..types import Amount, Deadline, Percent

_MONEY = re.compile(
    r"(?<![\d.])(?P<num>\d+(?:\.\d+)?)(?:\s*[-—–~至]\s*\d+(?:\.\d+)?)?"
    # "30万，" and "50万奖励" (no 元) are money too when a reward word or a clause end follows.
    r"(?:(?P<mul>万|亿)?元(?P<per>/[^，。；、（）]{1,8}?(?=[，。；、（）]|$))?|(?P<mul2>万)(?=[，。；]|奖励|补贴|补助))"
)
_QUALIFIERS = ("最高不超过", "累计最高", "最高", "不超过", "不高于", "最多", "上限")
_BENEFIT = r"补贴|奖励|补助|经费支持|贴息|专项资金|资金|预算|周转资金|费用"
_PURPOSE_AFTER = re.compile(rf"^(?:的)?(?:以内的?|及?以上的?)?([^，。；、（）\d\-—]{{0,14}}?(?:{_BENEFIT}))")
_PURPOSE_BEFORE = re.compile(rf"({_BENEFIT}|给予|奖励)")
_PERCENT = re.compile(r"\d+(?:\.\d+)?%")
_CLAUSE_SPLIT = re.compile(r"[，。；]")


def _clauses(text: str) -> list[tuple[int, str]]:
    """Clauses with their start offsets, split at ，。；."""
    out, start = [], 0
    for m in _CLAUSE_SPLIT.finditer(text + "。"):
        if m.start() > start:
            out.append((start, text[start : m.start()]))
        start = m.end()
    return out


def _clause_at(clauses: list[tuple[int, str]], pos: int) -> str:
    for start, c in clauses:
        if start <= pos < start + len(c):
            return c
    return ""


def extract_amounts(text: str) -> tuple[Amount, ...]:
    """Money amounts with qualifier and purpose.

    >>> [(a.text, a.value, a.purpose) for a in extract_amounts("给予最高5000元一次性创业补贴。")]
    [('最高5000元', 5000.0, '一次性创业补贴')]
    """
    clauses = _clauses(text)
    out = []
    for m in _MONEY.finditer(text):
        head = text[max(0, m.start() - 6) : m.start()]
        qualifier = next((q for q in _QUALIFIERS if head.endswith(q)), "")
        tail = text[m.end() : m.end() + 2]
        if not qualifier and tail[:2] in ("以内", "以上", "以下"):
            qualifier = tail[:2]
        value = float(m["num"]) * {"万": 1e4, "亿": 1e8}.get(m["mul"] or m["mul2"] or "", 1.0)
        clause = _clause_at(clauses, m.start())
        after = _PURPOSE_AFTER.match(text[m.end() :])
        purpose = after.group(1) if after else ""
        if not purpose:
            before = clause[: max(0, clause.find(m.group(0)))]
            found = _PURPOSE_BEFORE.findall(before)
            purpose = found[-1] if found and found[-1] != "给予" else ""
        shown = (qualifier if qualifier in _QUALIFIERS else "") + m.group(0)
        out.append(Amount(text=shown, value=value, qualifier=qualifier, purpose=purpose, clause=clause))
    return tuple(out)


def extract_percents(text: str) -> tuple[Percent, ...]:
    clauses = _clauses(text)
    return tuple(Percent(m.group(0), float(m.group(0)[:-1]), _clause_at(clauses, m.start())) for m in _PERCENT.finditer(text))


def _month_end(year: int, month: int) -> _dt.date:
    return _dt.date(year, month, calendar.monthrange(year, month)[1])


# Order matters: the most specific pattern claims its span first.
_DEADLINES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日"), "ymd"),
    (re.compile(r"(\d{4})年(\d{1,2})月底"), "ym"),
    (re.compile(r"(\d{4})年(?:底前|底|末)"), "y-end"),
    (re.compile(r"(\d{4})年前"), "y-before"),
    (re.compile(r"(?<![\d年])(\d{1,2})月底"), "m"),
    (re.compile(r"(\d{4})年，?(?=实现|力争)"), "y-end"),
]


def _day(kind: str, g: list[int], year: int | None) -> _dt.date | None:
    """The last day a matched deadline covers; None for an impossible date or a month without a known year."""
    try:
        if kind == "ymd":
            return _dt.date(g[0], g[1], g[2])
        if kind == "ym":
            return _month_end(g[0], g[1])
        if kind == "y-end":
            return _dt.date(g[0], 12, 31)
        if kind == "y-before":
            return _dt.date(g[0] - 1, 12, 31)
        return _month_end(year, g[0]) if year else None
    except (ValueError, calendar.IllegalMonthError):
        return None


def extract_deadlines(text: str, year: int | None) -> tuple[Deadline, ...]:
    """Dated time limits, normalised to the last day they cover.

    ``year`` fills in dates written without one ("5月底" in a 2022 document); when the document's
    year is unknown (None) such dates are skipped. "2024年前" means before 2024, so its last day is
    2023-12-31.

    >>> [(d.text, d.date.isoformat(), d.kind) for d in extract_deadlines("政策落实期限延长至2025年底。", 2022)]
    [('2025年底', '2025-12-31', 'until')]
    """
    clauses = _clauses(text)
    taken: list[tuple[int, int]] = []
    found = []
    for pattern, kind in _DEADLINES:
        for m in pattern.finditer(text):
            if any(s < m.end() and m.start() < e for s, e in taken) or text[m.end() : m.end() + 2] in ("版）", "第"):
                continue
            day = _day(kind, [int(x) for x in m.groups()], year)
            if day is None:
                continue
            before = text[max(0, m.start() - 8) : m.start()]
            until = "延长至" in before or "期限" in before
            taken.append((m.start(), m.end()))
            found.append((m.start(), Deadline(m.group(0).rstrip("，"), day, "until" if until else "by", _clause_at(clauses, m.start()))))
    return tuple(d for _, d in sorted(found, key=lambda x: x[0]))
