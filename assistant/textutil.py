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


# Units whose figures can be compared, as (family, factor): 3个亿 and 5亿元 are both money.
_SCALE = {"亿元": ("money", 1e8), "亿": ("money", 1e8), "万元": ("money", 1e4), "万": ("money", 1e4), "元": ("money", 1.0)}
_SCALE |= {"平方米": ("area", 1.0), "平米": ("area", 1.0), "平": ("area", 1.0), "%": ("percent", 1.0)}
_UNIT = "|".join(sorted(_SCALE, key=len, reverse=True))
_MAGNITUDE = re.compile(rf"(\d+(?:\.\d+)?)\s*个?\s*({_UNIT})")
_BETWEEN = re.compile(rf"(\d+(?:\.\d+)?)\s*({_UNIT})?\s*[—–\-～~至到]\s*(\d+(?:\.\d+)?)\s*({_UNIT})")
_AT_LEAST = re.compile(rf"(?<![、\d])(\d+(?:\.\d+)?)\s*({_UNIT})\s*(?:及以上|以上)")


def magnitudes(question: str) -> list[tuple[float, str]]:
    """Comparable figures a question states, as (value, family): "实缴3个亿" -> [(3e8, "money")]."""
    return [(float(m.group(1)) * _SCALE[m.group(2)][1], _SCALE[m.group(2)][0]) for m in _MAGNITUDE.finditer(question)]


def value_ranges(text: str) -> list[tuple[float, float, str]]:
    """The ranges a text sets out, as (low, high, family): "1—5亿元" -> (1e8, 5e8, "money"),
    "10亿元及以上" -> (1e9, inf, "money"). A figure in a list ("200平方米、500平方米以上的分别…") is a
    tier of that list, not a range of its own. Upper bounds ("90平方米及以下") are left out: read with
    the lower ones, they made the lead split a pair of cases apart more often than pick one (train/dev)."""
    out = []
    for m in _BETWEEN.finditer(text):
        family, factor = _SCALE[m.group(4)]
        low_family, low_factor = _SCALE[m.group(2)] if m.group(2) else (family, factor)
        if low_family == family:
            out.append((float(m.group(1)) * low_factor, float(m.group(3)) * factor, family))
    for m in _AT_LEAST.finditer(text):
        family, factor = _SCALE[m.group(2)]
        out.append((float(m.group(1)) * factor, float("inf"), family))
    return out
