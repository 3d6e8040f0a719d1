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

    @property
    def key(self) -> str:
        return f"{self.doc_id}#{self.number}"

    @property
    def label(self) -> str:
        return f"第{self.number}条"


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
    short_title: str
    issuer: str
    number: str  # the document number (文号), e.g. X政〔2022〕15号
    issued: _dt.date
    effective: _dt.date
    validity_years: int
    expires: _dt.date  # last day in force
    notice: str  # the cover notice (印发通知)
    categories: tuple[str, ...]
    sections: tuple[Section, ...]
    measures: tuple[Measure, ...]
    source: str = ""
    sha256: str = ""

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
    doc_number: str = ""

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
