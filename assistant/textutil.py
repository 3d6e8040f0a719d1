"""Small text helpers shared by the index and the answerer (a leaf module: imports nothing of ours)."""

from __future__ import annotations

import re

_SENT = re.compile(r"(?<=[。；！？])")


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
