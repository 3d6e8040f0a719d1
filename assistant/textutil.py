"""Small text helpers shared by the index and the answerer (a leaf module: imports nothing of ours)."""

from __future__ import annotations

import re

_SENT = re.compile(r"(?<=[。；！？])")
_VALUE = re.compile(r"\d+(?:\.\d+)?\s*(?:%|万|亿|元|年|天|个工作日|小时|平方米|平米|平)")


def sentences(text: str) -> list[str]:
    """Split at 。；！？ keeping the punctuation: "甲。乙；丙" -> ["甲。", "乙；", "丙"]."""
    return [s.strip() for s in _SENT.split(text) if s.strip()]


def cn_count(n: int) -> str:
    """A count before a measure word in Chinese figures: 2 -> 两 (两条), 84 -> 八十四.

    Answers and refusals spell counts in characters: digits there would look like claims the
    grounding check must find in a cited item."""
    digits = "零一二三四五六七八九"
    if n == 2:
        return "两"
    if 0 <= n < 10:
        return digits[n]
    if not 0 <= n < 100:
        return str(n)
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else digits[tens]) + "十" + (digits[ones] if ones else "")


def stated_values(question: str) -> list[str]:
    """Figures with their units that a question states, spaces removed: "首套房120平米，2022年…" -> 120平米, 2022年."""
    return [m.group(0).replace(" ", "") for m in _VALUE.finditer(question)]
