"""Typed records passed between stages (parse → index → retrieve → answer)."""

from __future__ import annotations

import datetime as _dt
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Amount:
    """A money amount in a measure, e.g. ``最高5000元`` for ``一次性创业补贴``."""

    text: str  # as written after clean-up, e.g. "最高5000元"
    value: float  # in yuan: "10万元" -> 100000.0
    qualifier: str  # 最高 / 不超过 / 以上 … or ""
    purpose: str  # what it pays for where the sentence says so, else ""
    clause: str  # the clause it appears in


@dataclass(frozen=True)
class Percent:
    """A percentage in a measure, e.g. ``60%`` in its clause."""

    text: str
    value: float
    clause: str


@dataclass(frozen=True)
class Deadline:
    """A dated time limit, normalised to the last day it covers.

    ``kind`` is "by" for a target to reach ("2022年底前实现…") and "until"
    for a period a policy runs ("延长至2025年底").
    """

    text: str
    date: _dt.date
    kind: str
    clause: str


@dataclass(frozen=True)
class Measure:
    """One numbered measure (第N条) of a document."""

    doc_id: str
    number: int
    category: str  # e.g. 激发创新创业活力
    category_no: int  # 1..10, the （一）…（十） heading it sits under
    title: str  # the heading sentence, e.g. 健全首次创业扶持政策
    text: str  # title and body, without the number and the 责任单位 block
    departments: tuple[str, ...]
    amounts: tuple[Amount, ...] = ()
    percents: tuple[Percent, ...] = ()
    deadlines: tuple[Deadline, ...] = ()
    line: int = 0  # 1-based line in the source file where it starts
    # Added for documents of any layout; the seed's values above are unchanged.
    path: tuple[str, ...] = ()  # headings above the item as written, e.g. ("三、主要任务", "（三）激发创新创业活力")
    numbering: str = ""  # the item's own numbering as written: "25.", "第五条", "（三）"
    ref: str = ""  # a readable label unique in the document when "第N条" is not, e.g. "第二部分（三）第3条"
    lead_departments: tuple[str, ...] = ()  # 牵头单位 / "…牵头"; empty when the document names no lead
    co_departments: tuple[str, ...] = ()  # 配合 / 协办 / the 责任单位 beside a named lead

    @property
    def key(self) -> str:
        return f"{self.doc_id}#{self.number}"

    @property
    def label(self) -> str:
        """第N条 (N is the document's own number), or ``ref`` where the numbering restarts under each heading."""
        return self.ref or f"第{self.number}条"


@dataclass(frozen=True)
class Section:
    """A non-measure part: 指导思想, 总体目标, a 工作要求, or document facts."""

    doc_id: str
    key_name: str  # stable id within the document, e.g. "goals", "req-3", "facts"
    heading: str  # e.g. 二、总体目标
    text: str
    departments: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.doc_id}#{self.key_name}"

    @property
    def label(self) -> str:
        return self.heading


Item = Measure | Section


@dataclass(frozen=True)
class Document:
    """A parsed policy document with its facts, sections and measures."""

    id: str
    title: str
    short_title: str  # the 文号, or a short form of the title when there is none: used in citations
    issuer: str | None  # None when the document does not say (a warning is recorded)
    number: str | None  # the document number (文号), e.g. X政〔2022〕15号; None when there is none
    issued: _dt.date | None
    effective: _dt.date | None
    validity_years: int | None
    expires: _dt.date | None  # last day in force; None when no validity is stated
    notice: str  # the cover notice (印发通知), "" when there is none
    categories: tuple[str, ...]
    sections: tuple[Section, ...]
    measures: tuple[Measure, ...]
    source: str = ""
    sha256: str = ""
    warnings: tuple[str, ...] = ()  # facts not found and other things an operator should check (English)
    format: str = "txt"  # txt | md | pdf | docx | html
    levels: tuple[str, ...] = ()  # the numbering hierarchy found, outermost first, e.g. ("一、", "（一）", "1.")

    def in_force(self, today: _dt.date) -> bool | None:
        """True/False when the document states when it applies, None when it does not say."""
        if self.effective is None and self.expires is None:
            return None
        return (self.effective is None or self.effective <= today) and (self.expires is None or today <= self.expires)

    def measure(self, number: int) -> Measure:
        for m in self.measures:
            if m.number == number:
                return m
        raise KeyError(f"{self.id} has no measure {number} (it has 1..{len(self.measures)})")


@dataclass(frozen=True)
class Corpus:
    """All documents; measure numbers are unique per document, keys globally."""

    documents: tuple[Document, ...]
    sha256: str = ""

    @property
    def measures(self) -> tuple[Measure, ...]:
        return tuple(m for d in self.documents for m in d.measures)

    @property
    def sections(self) -> tuple[Section, ...]:
        return tuple(s for d in self.documents for s in d.sections)

    def document(self, doc_id: str | None = None) -> Document:
        if doc_id is None:
            return self.documents[0]
        for d in self.documents:
            if d.id == doc_id:
                return d
        raise KeyError(f"no document {doc_id!r}; known: {[d.id for d in self.documents]}")

    def item(self, key: str) -> Item:
        """Look up a measure or section by its key, e.g. ``wanbailin-2022-15#25``."""
        doc_id, _, name = key.partition("#")
        doc = self.document(doc_id)
        if name.isdigit():
            return doc.measure(int(name))
        for s in doc.sections:
            if s.key_name == name:
                return s
        raise KeyError(f"no item {key!r}")


@dataclass(frozen=True)
class Hit:
    """A retrieved item with its fused score and which signals found it."""

    item: Item
    score: float
    sources: tuple[str, ...]  # subset of ("dense", "bm25")
    ranks: dict[str, float] = field(default_factory=dict, compare=False)  # per-signal rank and raw score
    matched: str = ""  # the best-matching child text (a sentence group), if any


@dataclass(frozen=True)
class Citation:
    """One cited item, as shown under an answer."""

    item: int | None  # measure number, None for a non-measure section
    label: str  # 第25条, or the section heading
    title: str
    category: str
    departments: list[str]
    quote: str
    doc_id: str = ""
    doc_number: str | None = ""  # the document's 文号; None when it has none

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Reply:
    """What ``Assistant.ask`` returns for every question, "not found" included."""

    text: str
    answered: bool
    citations: list[Citation]
    hits: list[Hit] = field(default_factory=list, compare=False)
    mode: str = "extractive"  # extractive | llm | llm-fallback | curated
    notes: list[str] = field(default_factory=list)
    question: str = ""  # the question as resolved with the history
    # Items that may be related when the evidence is neither strong nor absent ("以下条款可能相关").
    # They are suggestions, not citations: a reply with ``related`` items has ``answered`` False.
    related: list[Citation] = field(default_factory=list)
    confidence: float | None = None  # the answer decision's calibrated probability, when it ran

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "answered": self.answered,
            "citations": [c.to_dict() for c in self.citations],
            "mode": self.mode,
            "notes": list(self.notes),
            "question": self.question,
            "related": [c.to_dict() for c in self.related],
            "confidence": None if self.confidence is None else round(self.confidence, 4),
            "retrieved": [
                {"key": h.item.key, "label": h.item.label, "score": round(h.score, 4), "sources": list(h.sources)} for h in self.hits
            ],
        }
