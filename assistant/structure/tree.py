"""Paragraphs from blocks, then the tree of numbered units a document is made of.

``paragraphs`` repairs page breaks (``clean``); ``build_tree`` places each paragraph that starts
with one of the document's numbering styles as a unit under the nearest unit of an outer style,
and every other paragraph in the deepest open unit, as RAGFlow's ``tree_merge`` builds its heading
tree. A numbered line is a heading only when its number continues the sequence (the next sibling,
or 1 / the next overall number for a first child), so "3. " at the start of a wrapped line is text;
a small jump in the sequence means lost text and raises ``CorpusError`` naming the line.

A unit whose text ends with a department block is complete: text after it belongs to the unit
above (as in a district action plan whose 工作要求 paragraphs follow the last measure's 责任单位).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ..errors import CorpusError
from ..ingest import Block
from . import departments
from .clean import TERMINAL, join, normalise
from .cover import VALIDITY_SENTENCE, is_date_line
from .numbering import Style

MAX_GAP = 3  # a jump of at most this many numbers is lost text; a larger one is not a heading at all


@dataclass
class Para:
    """A paragraph assembled from blocks, with the lines it came from."""

    text: str
    line: int
    parts: list[int] = field(default_factory=list)
    heading: int = 0
    table: bool = False


@dataclass(eq=False)
class Unit:
    """A numbered unit (一、…, （一）…, 1. …, 第一条 …) with its text and the units under it."""

    style: Style | None  # None for the document root
    number: int
    numbering: str  # as written
    head: str  # the text after the numbering on its first paragraph
    line: int
    parent: Unit | None = None
    body: list[str] = field(default_factory=list)
    children: list[Unit] = field(default_factory=list)
    last_line: int = 0
    closed: bool = False  # ends with its department block

    @property
    def text(self) -> str:
        return self.head + "".join(self.body)

    @property
    def heading(self) -> str:
        """Numbering and title as written: 三、主要任务, （一）持续放宽市场准入."""
        return self.numbering + title_of(self.head)


def title_of(head: str) -> str:
    """The first sentence of a heading paragraph, without a department block."""
    found = departments.find(head)
    return (found[0] if found else head).partition("。")[0]


def match(text: str, styles: Sequence[Style]) -> tuple[Style, int, str, str] | None:
    for style in styles:
        found = style.match(text)
        if found:
            return style, *found
    return None


def _joinable(prev: Para, block: Block, frag: str, styles: Sequence[Style]) -> bool:
    if block.heading or block.table or prev.heading or prev.table or not prev.text:
        return False
    # A bare heading ("（一）持续放宽市场准入") is followed by its content, not continued by it.
    bare = any(s.match(prev.text) for s in styles[:-1]) and "。" not in prev.text
    dates = is_date_line(frag) or is_date_line(prev.text)
    return not bare and not dates and not match(frag, styles) and prev.text[-1] not in TERMINAL + "）)〕】"


def paragraphs(blocks: Sequence[Block], styles: Sequence[Style]) -> list[Para]:
    """Merge fragments split by page breaks back into paragraphs."""
    paras: list[Para] = []
    for b in blocks:
        frag = normalise(b.text)
        if not frag:
            continue
        if paras and _joinable(paras[-1], b, frag, styles):
            paras[-1].text = join(paras[-1].text, frag)
            paras[-1].parts.append(b.line)
        else:
            paras.append(Para(frag, b.line, [b.line], b.heading, b.table))
    return paras


@dataclass
class Tree:
    root: Unit
    validity: list[Para] = field(default_factory=list)  # closing sentences on when the document applies


class _Builder:
    def __init__(self, styles: Sequence[Style], source: str) -> None:
        self.styles, self.source = styles, source
        self.tree = Tree(Unit(None, 0, "", "", 0))
        self.stack = [self.tree.root]
        self.last: dict[str, int] = {}  # last number seen per style, across parents

    def place(self, p: Para) -> bool:
        """Open a unit for ``p`` if it continues a numbering sequence; False when it is text."""
        found = match(p.text, self.styles) if not p.table else None
        if not found:
            return False
        style, number, numbering, rest = found
        depth = len(self.stack)
        while depth > 1 and self.stack[depth - 1].style.rank >= style.rank:  # type: ignore[union-attr]
            depth -= 1
        parent = self.stack[depth - 1]
        siblings = [c for c in parent.children if c.style is style]
        expected = siblings[-1].number + 1 if siblings else self.last.get(style.name, 0) + 1
        if number != expected and (siblings or number != 1):
            if expected < number <= expected + MAX_GAP:
                kind = "measure" if style is self.styles[-1] else "heading"
                why = f"{kind} {expected} missing: expected '{style.written(expected)}' but found '{numbering}'"
                raise CorpusError(why, source=self.source, line=p.line)
            return False
        unit = Unit(style, number, numbering, rest, p.line, parent, last_line=p.parts[-1])
        unit.closed = departments.find(rest) is not None
        parent.children.append(unit)
        del self.stack[depth:]
        self.stack.append(unit)
        self.last[style.name] = number
        return True

    def add(self, p: Para) -> None:
        if not match(p.text, self.styles) and VALIDITY_SENTENCE.search(p.text) and p.text.startswith(("本", "自")):
            self.tree.validity.append(p)
        elif not self.place(p):
            target = next(u for u in reversed(self.stack) if not u.closed or u.style is None)
            target.body.append(p.text + ("；" if p.table and p.text[-1:] not in TERMINAL else ""))
            target.last_line = p.parts[-1]
            target.closed = target.style is not None and departments.find(target.text) is not None


def build_tree(paras: Sequence[Para], styles: Sequence[Style], source: str) -> Tree:
    builder = _Builder(styles, source)
    for p in paras:
        builder.add(p)
    return builder.tree


def walk(unit: Unit) -> list[Unit]:
    """``unit``'s descendants in document order."""
    out: list[Unit] = []
    for c in unit.children:
        out.append(c)
        out.extend(walk(c))
    return out


def fold_enumerations(root: Unit) -> None:
    """Units of a style that only ever lists the cases of a sentence ending in "：" become their parent's text.

    "5. 对下列企业给予奖励：（1）…（2）…" is one item with two cases, not two items.
    """
    by_style: dict[str, list[Unit]] = {}
    for u in walk(root):
        by_style.setdefault(u.style.name, []).append(u)  # type: ignore[union-attr]
    for units in sorted(by_style.values(), key=lambda us: -us[0].style.rank):  # type: ignore[union-attr]
        parents = {id(u.parent): u.parent for u in units if u.parent is not None}
        if all(p.style is not None and p.text.rstrip().endswith(("：", ":")) for p in parents.values()):
            for p in parents.values():
                _fold_children(p)


def _fold_children(parent: Unit) -> None:
    for c in parent.children:
        _fold_children(c)
        parent.body.append(c.numbering + c.text)
        parent.last_line = max(parent.last_line, c.last_line)
    parent.children = []
    parent.closed = departments.find(parent.text) is not None
