"""From a file's blocks to a :class:`Document`: cover facts, the unit tree, items, sections, labels.

Which units are *items* (``Measure``, the unit a citation points to) is read from the content:
the deepest numbering style whose units carry text (第N条 in a regulation, "N." in an action plan,
（一） when a plan goes no deeper). A childless unit higher up is an item too when it names its
departments among siblings that have items of their own (a task written directly under （三）).
Every other unit with text is a ``Section`` (指导思想, 总体目标, 工作要求（一）…), so nothing is lost.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

from ..errors import CorpusError
from ..ingest import Extracted
from ..types import Document, Measure, Section
from . import departments as deps
from .clean import normalise
from .corrections import Correction, apply_corrections
from .cover import Cover, Validity, fmt, read_cover, read_validity, sign_off
from .fields import extract_amounts, extract_deadlines, extract_percents
from .numbering import Style, detect
from .tree import Para, Unit, build_tree, fold_enumerations, match, paragraphs, title_of, walk

_ANNEX = re.compile(r"^附件\s*\d*\s*[:：]?")
DEPARTMENT_STYLE_SHARE = 0.9  # when this share of items names departments, an item without them is cut off
TITLE_MAX = 40  # longer first sentences are cut at a comma for the item's title
SHORT_TITLE_MAX = 16  # citations name a document without a 文号 by this much of its title


def _has_content(u: Unit) -> bool:
    found = deps.find(u.head)
    head = found[0] if found else u.head
    return bool(u.body) or head != title_of(u.head) or "。" in head


def _citation_style(units: Sequence[Unit]) -> Style:
    with_text = [u.style for u in units if u.style is not None and _has_content(u)]
    if not with_text:
        raise CorpusError("numbered headings found, but none carries any text; the file may be truncated")
    return max(with_text, key=lambda s: s.rank)


def _item_units(root: Unit) -> list[Unit]:
    units = walk(root)
    cite = _citation_style(units)
    out = []
    for u in units:
        if u.style is cite:
            out.append(u)
        elif not u.children and _has_content(u) and deps.find(u.text) and any(s.children for s in u.parent.children):  # type: ignore[union-attr]
            out.append(u)
    return out


def _ancestors(u: Unit) -> list[Unit]:
    out = []
    while u.parent is not None and u.parent.style is not None:
        u = u.parent
        out.append(u)
    return out[::-1]


def _departments(u: Unit) -> tuple[str, deps.Departments | None]:
    """(text without its block, departments) of ``u``; a unit without a block takes its nearest heading's."""
    found = deps.find(u.text)
    if found:
        return found
    for a in reversed(_ancestors(u)):
        above = deps.find(a.head)
        if above:
            return u.text, above[1]
    return u.text, None


def _title(core: str) -> str:
    """The first sentence; a long one is cut at its first comma (or at ``TITLE_MAX``)."""
    title = core.partition("。")[0]
    if len(title) <= TITLE_MAX:
        return title
    comma = re.search(r"[，：；]", title)
    return title[: comma.start()] if comma and comma.start() <= TITLE_MAX else title[:TITLE_MAX]


def _labels(units: Sequence[Unit]) -> tuple[list[int], list[str]]:
    """(numbers, refs): the document's own numbers when unique, else ordinals with labels naming the headings above."""
    own = [u.number for u in units]
    if len(set(own)) == len(own):
        refs = [u.style.cite(u.number) for u in units]  # type: ignore[union-attr]
        return own, ["" if r == f"第{n}条" else r for r, n in zip(refs, own, strict=True)]
    for k in range(1, 6):
        refs = [_prefix(u, k) + u.style.cite(u.number) for u in units]  # type: ignore[union-attr]
        if len(set(refs)) == len(refs):
            return list(range(1, len(units) + 1)), refs
    return list(range(1, len(units) + 1)), [f"第{i}项" for i in range(1, len(units) + 1)]


def _prefix(u: Unit, k: int) -> str:
    return "".join(a.style.prefix(a.number) for a in _ancestors(u)[-k:])  # type: ignore[union-attr]


def short_title(title: str) -> str:
    """What citations call a document without a 文号: its title after "关于", cut to ``SHORT_TITLE_MAX``.

    >>> short_title("柏川区人民政府关于进一步优化营商环境的若干措施")
    '进一步优化营商环境的若干措施'
    """
    core = re.sub(r"^(?:印发)?(.+?)(?:的通知)?$", r"\1", title.split("关于", 1)[-1]) or title
    return core if len(core) <= SHORT_TITLE_MAX else core[: SHORT_TITLE_MAX - 1] + "…"


def _year(cover: Cover, validity: Validity | None) -> int | None:
    """The year that dates without one ("5月底") fall in."""
    if cover.issued:
        return cover.issued.year
    if validity and validity.effective:
        return validity.effective.year
    found = re.search(r"[〔\[［](\d{4})[〕\]］]", cover.number or "")
    return int(found.group(1)) if found else None


def _measures(doc_id: str, units: Sequence[Unit], year: int | None, source: str) -> tuple[list[Measure], list[str]]:
    numbers, refs = _labels(units)
    parents = list(dict.fromkeys(id(u.parent) for u in units if u.parent is not None and u.parent.style is not None))
    found = [_departments(u) for u in units]
    own = sum(deps.find(u.text) is not None for u in units)
    strict = len(units) >= 5 and own >= DEPARTMENT_STYLE_SHARE * len(units)
    out, warnings = [], []
    for u, n, ref, (core, dep) in zip(units, numbers, refs, found, strict=True):
        if dep is None and strict:
            raise CorpusError(f"measure {n}: departments (责任单位：…) missing at the end of the measure", source=source, line=u.last_line)
        core = core.strip()
        parent = u.parent if u.parent is not None and u.parent.style is not None else None
        out.append(
            Measure(
                doc_id=doc_id,
                number=n,
                category=title_of(parent.head) if parent else "",
                category_no=parents.index(id(parent)) + 1 if parent else 0,
                title=_title(core),
                text=core,
                departments=dep.all if dep else (),
                amounts=extract_amounts(core),
                percents=extract_percents(core),
                deadlines=extract_deadlines(core, year),
                line=u.line,
                path=tuple(a.heading for a in _ancestors(u)),
                numbering=u.numbering,
                ref=ref,
                lead_departments=dep.lead if dep else (),
                co_departments=dep.co if dep else (),
            )
        )
    missing = sum(not m.departments for m in out)
    if missing:
        warnings.append(f"{missing} of {len(out)} items name no responsible department")
    return out, warnings


def _section_key(u: Unit) -> str:
    path = _ancestors(u) + [u]
    if len(path) == 1:
        return {"指导思想": "guiding", "总体目标": "goals"}.get(title_of(u.head), f"s{u.number}")
    if len(path) == 2 and "工作要求" in title_of(path[0].head):
        return f"req-{u.number}"
    return "s" + "-".join(str(a.number) for a in path)


def _section(doc_id: str, u: Unit) -> Section:
    """A unit with text that is not an item: 一、指导思想 (its paragraphs), 工作要求（一）加强组织领导 (heading sentence and all)."""
    parent = u.parent if u.parent is not None and u.parent.style is not None else None
    heading = (title_of(parent.head) if parent else "") + u.heading
    head = deps.find(u.head)
    own_sentence = "。" in (head[0] if head else u.head)  # the heading line carries text, not just a title
    text = (u.head if own_sentence else "") + "".join(u.body)
    found = deps.find(text)
    return Section(doc_id, _section_key(u), heading, (found[0] if found else text).strip(), found[1].all if found else ())


def _sections(doc_id: str, root: Unit, items: Sequence[Unit]) -> list[Section]:
    chosen = {id(u) for u in items}
    units = [u for u in walk(root) if id(u) not in chosen and (u.body or (not u.children and _has_content(u)))]
    tops = [_section(doc_id, u) for u in units if u.parent is root]
    rest = [_section(doc_id, u) for u in units if u.parent is not root]
    if root.body:
        rest.append(Section(doc_id, "notes", "其他", "".join(root.body)))
    return tops + rest


def _facts(doc_id: str, cover: Cover, validity: Validity | None, title: str) -> Section:
    parts = [f"文件名称：《{title}》。"]
    if cover.number:
        parts.append(f"发文字号：{cover.number}。")
    if cover.issuer:
        parts.append(f"发文机关：{cover.issuer}。")
    if cover.issued:
        parts.append(f"印发日期：{fmt(cover.issued)}。")
    if validity and validity.effective:
        parts.append(f"施行日期：{fmt(validity.effective)}起实施。")
    if validity and validity.expires:
        years = f"{validity.years_text}年，" if validity.years_text else ""
        parts.append(f"有效期：{years}至{fmt(validity.expires)}。")
    if cover.notice:
        parts.append(f"印发通知：{cover.notice}")
    return Section(doc_id, "facts", "文件信息", "".join(parts))


def _warnings(cover: Cover, validity: Validity | None, titled: bool) -> list[str]:
    out = []
    if not titled:
        out.append("no title found; the file name is used as the title")
    if not cover.number:
        out.append("no document number (文号, e.g. X政〔2022〕15号) found")
    if not cover.issuer:
        out.append("no issuing authority (发文机关) found")
    if not cover.issued:
        out.append("no issue date (印发日期) found on the cover, in the page's metadata or in the sign-off")
    if validity is None or validity.effective is None and validity.expires is None:
        out.append(
            "no effective date or validity found (e.g. '本办法自2022年6月23日起实施，有效期为五年'); "
            "the document's validity is unknown and the file may be truncated"
        )
    return out


def _first_heading(texts: Sequence[str], styles: Sequence[Style]) -> int:
    """Index of the first line numbered 1 in one of ``styles``: the cover ends there."""
    return next((i for i, t in enumerate(texts) if (m := match(t, styles)) and m[1] == 1), 0)


def _split_tail(paras: list[Para], cover: Cover) -> tuple[list[Para], list[Para]]:
    """(body, annex): the 附件 part goes, and so does a sign-off, whose issuer and date fill gaps in the cover."""
    cut = next((i for i, p in enumerate(paras) if i and _ANNEX.match(p.text)), len(paras))
    body, annex = paras[:cut], paras[cut:]
    n, issuer, issued = sign_off([p.text for p in body])
    if n:
        body = body[:-n]
        cover.issuer, cover.issued = cover.issuer or issuer, cover.issued or issued
    return body, annex


def build_document(extracted: Extracted, doc_id: str, *, source: str = "", corrections: Sequence[Correction] = ()) -> Document:
    """Parse one file's blocks into a :class:`Document`; raises ``CorpusError`` naming the line when text is lost."""
    source = source or doc_id
    texts = [normalise(b.text) for b in extracted.blocks]
    styles = detect(texts)
    if not styles:
        raise CorpusError(
            "no section heading like '一、指导思想' and no numbered items ('第一条', '1.') found; is this a policy document?",
            source=source,
            line=1,
        )
    first = _first_heading(texts, styles)
    cover = read_cover(texts[:first], [t for t, b in zip(texts[:first], extracted.blocks[:first], strict=True) if b.heading])
    paras = paragraphs(extracted.blocks[first:], styles)
    apply_corrections(paras, [c for c in corrections if c.doc == doc_id], source)
    body, annex = _split_tail(paras, cover)
    tree = build_tree(body, styles, source)
    fold_enumerations(tree.root)
    items = _item_units(tree.root)
    validity = read_validity([p.text for p in tree.validity] + [u.text for u in items[-3:]], cover.issued)
    measures, item_warnings = _measures(doc_id, items, _year(cover, validity), source)
    title = cover.title or doc_id
    head = [_facts(doc_id, cover, validity, title)] + ([Section(doc_id, "preface", "前言", cover.preface)] if cover.preface else [])
    tail = [Section(doc_id, "validity" if i == 0 else f"validity-{i + 1}", "施行日期与有效期", p.text) for i, p in enumerate(tree.validity)]
    if annex:
        tail.append(Section(doc_id, "annex", annex[0].text, "\n".join(p.text for p in annex[1:])))
    categories = tuple(dict.fromkeys((m.category_no, m.category) for m in measures if m.category_no))
    return Document(
        id=doc_id,
        title=title,
        short_title=cover.number or short_title(title),
        issuer=cover.issuer,
        number=cover.number,
        issued=cover.issued,
        effective=validity.effective if validity else None,
        validity_years=validity.years if validity else None,
        expires=validity.expires if validity else None,
        notice=cover.notice,
        categories=tuple(c for _, c in categories),
        sections=tuple(head + _sections(doc_id, tree.root, items) + tail),
        measures=tuple(measures),
        source=source,
        sha256=hashlib.sha256(extracted.text.encode("utf-8")).hexdigest(),
        warnings=tuple(_warnings(cover, validity, bool(cover.title)) + item_warnings),
        format=extracted.format,
        levels=tuple(s.example for s in styles),
    )
