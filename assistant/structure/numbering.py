"""Numbering styles of Chinese policy documents, as a table of patterns chosen per document.

Like RAGFlow's ``BULLET_PATTERN`` groups and ``bullets_category``: every style below is tried on
every paragraph, and a document's hierarchy is the styles it actually uses as a sequence (at
least two lines numbered 1 and 2), ordered by ``rank`` (第一章 holds 第一条, 一、 holds （一）,
which holds 1., which holds （1）, which holds ①). Which level an item is cited at is decided
later (``tree``), from the content.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN = r"[零〇一二三四五六七八九十百两]+"
_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"


def cn_number(s: str) -> int:
    """Chinese or Arabic numeral: "十" -> 10, "十二" -> 12, "二十" -> 20, "一百零五" -> 105, "①" -> 1."""
    if s in _CIRCLED:  # before isdigit(), which is true for "①"
        return _CIRCLED.index(s) + 1
    if s.isdigit():
        return int(s)
    total, current = 0, 0
    for ch in s:
        if ch == "百":
            total += (current or 1) * 100
            current = 0
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        else:
            current = _CN_DIGITS[ch]
    return total + current


def cn_numeral(n: int) -> str:
    """1 -> 一, 10 -> 十, 12 -> 十二, 20 -> 二十 (99 at most; larger stay in digits)."""
    digits = "零一二三四五六七八九"
    if not 0 < n < 100:
        return str(n)
    tens, ones = divmod(n, 10)
    return ("" if tens == 0 else "十" if tens == 1 else digits[tens] + "十") + (digits[ones] if ones else "")


@dataclass(frozen=True)
class Style:
    """One numbering style: its pattern (group 1 is the numeral), nesting rank and how it is cited."""

    name: str
    pattern: re.Pattern[str]
    rank: int  # smaller is further out
    example: str  # how the document writes number 1

    def match(self, text: str) -> tuple[int, str, str] | None:
        """(number, numbering as written, the text after it) when ``text`` starts with this style."""
        m = self.pattern.match(text)
        if not m:
            return None
        return cn_number(m.group(1)), text[: m.end()].strip(), text[m.end() :].strip()

    def written(self, n: int) -> str:
        """Number ``n`` in this style: 37 -> "37.", 5 -> "第五条", 3 -> "（三）"."""
        if self.name.startswith("num"):
            return self.example.replace("1", str(n), 1)
        if self.name == "circled":
            return _CIRCLED[n - 1] if 0 < n <= len(_CIRCLED) else f"({n})"
        return self.example.replace("一", cn_numeral(n), 1)

    def cite(self, n: int) -> str:
        """A citation label for item ``n``: 第5条 for articles and "1." items, 第三项 for the others."""
        if self.name in ("article", "num", "num_dun"):
            return f"第{n}条"
        return f"第{cn_numeral(n)}项" if self.name in ("cn", "cn_paren") else f"第{n}项"

    def prefix(self, n: int) -> str:
        """How a heading of this style names itself inside a longer label: 第二部分, （三）, 第二章."""
        if self.name == "cn":
            return f"第{cn_numeral(n)}部分"
        if self.name in ("part", "chapter", "section", "cn_paren", "num_paren"):
            return self.written(n)
        return f"{n}."


STYLES: tuple[Style, ...] = (
    Style("part", re.compile(rf"^第({_CN}|\d+)(?:编|部分)(?![^\s，。；]{{0,2}}[，。；])\s*"), 0, "第一部分"),
    Style("chapter", re.compile(rf"^第({_CN}|\d+)章\s*"), 1, "第一章"),
    Style("section", re.compile(rf"^第({_CN}|\d+)节\s*"), 2, "第一节"),
    Style("article", re.compile(rf"^第({_CN}|\d+)条\s*"), 3, "第一条"),
    Style("cn", re.compile(r"^([一二三四五六七八九十]+)\s*、\s*"), 4, "一、"),
    Style("cn_paren", re.compile(r"^[（(]\s*([一二三四五六七八九十]+)\s*[）)]\s*"), 5, "（一）"),
    Style("num", re.compile(r"^(\d{1,3})\s*[.．](?!\d)\s*"), 6, "1."),
    Style("num_dun", re.compile(r"^(\d{1,3})\s*、\s*"), 7, "1、"),
    Style("num_paren", re.compile(r"^[（(]\s*(\d{1,3})\s*[）)]\s*"), 8, "（1）"),
    Style("circled", re.compile(r"^([①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳])\s*"), 9, "①"),
)


def detect(texts: Iterable[str]) -> tuple[Style, ...]:
    """The styles ``texts`` use as a numbered sequence (some line numbered 1 and one numbered 2), outermost first.

    >>> [s.example for s in detect(["一、总体要求", "（一）放宽准入", "1.坚持…", "2.打造…", "二、保障措施"])]
    ['一、', '1.']
    """
    seen: dict[str, set[int]] = {}
    for text in texts:
        for style in STYLES:
            found = style.match(text)
            if found:
                seen.setdefault(style.name, set()).add(found[0])
                break
    used = tuple(s for s in STYLES if {1, 2} <= seen.get(s.name, set()))
    if any(s.name == "article" for s in used):
        # Inside 第N条 the (一)/1. lines enumerate the article's cases; they are its content.
        used = tuple(s for s in used if s.rank <= 3)
    return used
