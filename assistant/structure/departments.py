"""Responsible departments, in the forms district documents write them, with lead and co-operating units apart.

    （责任单位：区税务局、区财政局）                      all responsible, no lead named
    （区政务服务局牵头，区发改局、区审改办配合）            lead, then co-operating
    〔牵头单位：区政府办公室，责任单位：区政府有关部门〕     lead, then responsible (co-operating)
    （牵头单位：区商务局；责任单位：区财政局）              the same with a semicolon

The block sits at the end of an item (or of a heading that covers the items below it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_OPEN, _CLOSE = "（(〔【[", "）)〕】]"
# A bracketed block at the end of the text; one level of nested brackets is allowed inside
# (区委办（区政府办）). The block must name a role (牵头, 责任单位, 配合 …) to count.
_BLOCK = re.compile(r"[（(〔【\[]\s*((?:[^（）()〔〕【】\[\]]|[（(][^（）()]*[）)])*?)\s*[）)〕】\]]\s*[。；;]?\s*$")
_ROLE = re.compile(r"牵头|责任单位|责任部门|配合|协办|主办|参与单位|协助|负责$")
_LABEL = re.compile(r"(牵头单位|牵头部门|主办单位|责任单位|责任部门|配合单位|配合部门|协办单位|参与单位)\s*[:：]\s*")
_LEAD_LABELS = ("牵头单位", "牵头部门", "主办单位")
_SUFFIX = re.compile(r"^(.*?)(牵头负责|牵头|负责|配合|协助|参与|协办)$")


@dataclass(frozen=True)
class Departments:
    """All departments in written order, and the lead and co-operating ones when the text says which."""

    all: tuple[str, ...]
    lead: tuple[str, ...] = ()
    co: tuple[str, ...] = ()


def split_departments(block: str) -> tuple[str, ...]:
    """``区教育局等相关部门`` -> (区教育局, 相关部门); order kept, duplicates dropped."""
    out: list[str] = []
    # Separators inside quotes belong to a name: 区“双随机、一公开”监管工作领导小组成员单位.
    for part in re.split(r"[、，,](?![^“”]*”)", block):
        part = part.strip()
        if not part:
            continue
        head, sep, rest = part.partition("等")
        for name in (head, rest) if sep and head and rest.endswith(("部门", "单位")) else (part,):
            if name and name not in out:
                out.append(name)
    return tuple(out)


def _labelled(body: str) -> Departments:
    """牵头单位：A；责任单位：B、C  -> lead (A), co (B, C)."""
    marks = list(_LABEL.finditer(body))
    lead: list[str] = []
    rest: list[str] = []
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(body)
        names = split_departments(body[m.end() : end].strip(" ；;，,。"))
        (lead if m.group(1) in _LEAD_LABELS else rest).extend(names)
    everything = tuple(dict.fromkeys(lead + rest))
    if not lead:
        return Departments(everything)  # 责任单位 alone: all responsible, no lead
    return Departments(everything, tuple(dict.fromkeys(lead)), tuple(d for d in dict.fromkeys(rest) if d not in lead))


def _suffixed(body: str) -> Departments:
    """区政务服务局牵头，区发改局、区审改办配合 -> lead (区政务服务局), co (区发改局, 区审改办).

    Names before a role word take that role ("区发改局，区审改办配合": both co-operate).
    """
    lead: list[str] = []
    co: list[str] = []
    pending: list[str] = []
    for clause in re.split(r"[；;，,](?![^“”]*”)", body):
        clause = clause.strip(" 。")
        m = _SUFFIX.match(clause)
        pending.extend(split_departments(m.group(1) if m else clause))
        if m:
            (lead if m.group(2) in ("牵头", "牵头负责", "负责") else co).extend(pending)
            pending = []
    co.extend(pending)
    everything = tuple(dict.fromkeys(lead + co))
    return Departments(everything, tuple(dict.fromkeys(lead)), tuple(d for d in dict.fromkeys(co) if d not in lead))


def parse_block(body: str) -> Departments:
    """The departments named inside one bracketed block (without its brackets)."""
    if _LABEL.search(body):
        return _labelled(body)
    return _suffixed(body)


def find(text: str) -> tuple[str, Departments] | None:
    """(text before the block, departments) when ``text`` ends with a department block, else None."""
    m = _BLOCK.search(text)
    if not m or not _ROLE.search(m.group(1)):
        return None
    return text[: m.start()].rstrip(), parse_block(m.group(1))
