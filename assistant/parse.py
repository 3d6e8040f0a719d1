"""Parse policy documents (PDF-extracted text) into typed records.

The raw text carries the scars of PDF extraction. They are repaired by
general rules, in this order:

1. page breaks inside a sentence are joined: a paragraph that does not end
   with terminal punctuation continues in the next fragment unless that
   fragment starts a heading ("城镇新增\\n\\n就业" -> "城镇新增就业");
2. a character doubled across such a break is kept once
   ("节能环保\\n\\n保、" -> "节能环保、", "（责\\n\\n责任单位" -> "（责任单位");
3. half-width ( ) : , ; next to Chinese text become full-width, and spaces
   next to Chinese text go ("400 万" -> "400万", "20% 以上" -> "20%以上");
4. the reviewed corrections in ``corpus/corrections.toml`` fix OCR errors no
   rule can (交又重复 -> 交叉重复).

What it does not handle: tables, footnotes, or measures numbered other than
"N." at the start of a paragraph.
"""

from __future__ import annotations

import calendar
import datetime as _dt
import hashlib
import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .errors import CorpusError
from .types import Amount, Corpus, Deadline, Document, Measure, Percent, Section

_CN_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
_TOP = re.compile(r"^([一二三四五六七八九十]+)、\s*(.+)$")
_SUB = re.compile(r"^[（(]([一二三四五六七八九十]+)[）)]\s*(.+)$")
_MEASURE = re.compile(r"^(\d{1,3})\s*[.．]\s*(.*)$")
_TERMINAL = "。；！？!?"
_CJK = r"\u3000-\u303f\u4e00-\u9fff\uff00-\uffef“”‘’《》〔〕—…、"
_DEPTS = re.compile(r"[（(]\s*责任单位\s*[:：]\s*(.+?)\s*[）)]\s*$")
_DATE = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日")
_VALIDITY = re.compile(r"自(\d{4}年\d{1,2}月\d{1,2}日)起(?:施行|实施|执行)，?有效期为?([一二三四五六七八九十\d]+)年")
_DOC_NUMBER = re.compile(r"[\u4e00-\u9fff]{1,6}〔\d{4}〕\d+号")


@dataclass
class _Para:
    """A paragraph being assembled from fragments, with its first line."""

    text: str
    line: int
    parts: list[int] = field(default_factory=list)


def _cn_number(s: str) -> int:
    """Chinese or Arabic numeral up to 99: "十" -> 10, "十二" -> 12, "五" -> 5."""
    if s.isdigit():
        return int(s)
    if s == "十":
        return 10
    if s.startswith("十"):
        return 10 + _CN_DIGITS[s[1]]
    if len(s) == 2 and s.endswith("十"):
        return _CN_DIGITS[s[0]] * 10
    if len(s) == 3 and s[1] == "十":
        return _CN_DIGITS[s[0]] * 10 + _CN_DIGITS[s[2]]
    return _CN_DIGITS[s]


def _is_heading(text: str) -> bool:
    return bool(_TOP.match(text) or _SUB.match(text) or _MEASURE.match(text))


def _is_cjk(ch: str) -> bool:
    return bool(re.match(f"[{_CJK}]", ch))


def normalise(text: str) -> str:
    """Full-width punctuation next to Chinese, no spaces next to Chinese.

    >>> normalise("(责任单位: 区税务局)公开招标数额标准（400 万）, 20% 以上")
    '（责任单位：区税务局）公开招标数额标准（400万），20%以上'
    """
    text = text.replace("\u3000", " ").replace("\u00a0", " ")
    # Half-width punctuation that is not between two digits ("1:1", "1,000") is Chinese punctuation.
    text = re.sub(r"(?<!\d):|:(?!\d)", "：", text)
    text = re.sub(r"(?<!\d),|,(?!\d)", "，", text)
    text = text.replace(";", "；").replace("(", "（").replace(")", "）")
    # A space with Chinese text (or full-width punctuation) on either side is an extraction artefact.
    text = re.sub(rf"\s+(?=[{_CJK}])|(?<=[{_CJK}])\s+", "", text)
    return re.sub(r"[ \t]{2,}", " ", text).strip()


def _fragments(text: str) -> list[tuple[int, str]]:
    """Non-empty lines with their 1-based line numbers."""
    return [(i, ln.strip()) for i, ln in enumerate(text.split("\n"), start=1) if ln.strip()]


def _join(prev: str, nxt: str) -> str:
    """Join two fragments of one sentence split by a page break."""
    if prev and nxt and prev[-1] == nxt[0] and _is_cjk(prev[-1]) and prev[-1] not in "“”、，（）":
        # The extractor repeats the character at a page edge: 节能环保 | 保、生物医药.
        nxt = nxt[1:]
    return prev + nxt


def _paragraphs(frags: Sequence[tuple[int, str]]) -> list[_Para]:
    """Merge fragments split by page breaks back into paragraphs."""
    paras: list[_Para] = []
    for line, frag in frags:
        frag = normalise(frag)
        prev = paras[-1].text if paras else ""
        bare_heading = bool(_TOP.match(prev) or _SUB.match(prev)) and "。" not in prev
        if prev and not bare_heading and not _is_heading(frag) and prev[-1] not in _TERMINAL + "）)":
            paras[-1].text = _join(paras[-1].text, frag)
            paras[-1].parts.append(line)
        else:
            paras.append(_Para(frag, line, [line]))
    return paras


def _decode(data: bytes, source: str) -> str:
    if not data.strip():
        raise CorpusError("the file is empty; expected a policy document as UTF-8 text", source=source)
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise CorpusError("binary data (NUL byte); expected UTF-8 text", source=source, line=line)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as ex:
        line = data[: ex.start].count(b"\n") + 1
        raise CorpusError(f"not UTF-8 text (bad byte at offset {ex.start}); save the file as UTF-8", source=source, line=line) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


# --- corrections ---------------------------------------------------------------


@dataclass(frozen=True)
class Correction:
    """A reviewed fix for an OCR error, applied after clean-up."""

    doc: str
    find: str
    replace: str
    why: str
    count: int = 1


def load_corrections(path: Path) -> list[Correction]:
    """Read ``corrections.toml``; a missing file means no corrections."""
    if not path.exists():
        return []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as ex:
        raise CorpusError(f"cannot read corrections: {ex}", source=str(path)) from None
    out = []
    for i, c in enumerate(data.get("correction", []), start=1):
        missing = {"doc", "find", "replace", "why"} - set(c)
        if missing:
            raise CorpusError(f"correction #{i} lacks {sorted(missing)}", source=str(path))
        out.append(Correction(c["doc"], c["find"], c["replace"], c["why"], int(c.get("count", 1))))
    return out


def _apply_corrections(paras: list[_Para], fixes: Iterable[Correction], source: str) -> None:
    for fix in fixes:
        found = sum(p.text.count(fix.find) for p in paras)
        if found != fix.count:
            raise CorpusError(
                f"correction {fix.find!r} -> {fix.replace!r} matched {found} times, expected {fix.count}; "
                "review corpus/corrections.toml against the document",
                source=source,
            )
        for p in paras:
            p.text = p.text.replace(fix.find, fix.replace)


# --- field extraction -----------------------------------------------------------

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


def extract_deadlines(text: str, year: int) -> tuple[Deadline, ...]:
    """Dated time limits, normalised to the last day they cover.

    ``year`` fills in dates written without one ("5月底" in a 2022 document).
    "2024年前" means before 2024, so its last day is 2023-12-31.

    >>> [(d.text, d.date.isoformat(), d.kind) for d in extract_deadlines("政策落实期限延长至2025年底。", 2022)]
    [('2025年底', '2025-12-31', 'until')]
    """
    clauses = _clauses(text)
    taken: list[tuple[int, int]] = []
    found = []
    for pattern, kind in _DEADLINES:
        for m in pattern.finditer(text):
            if any(s < m.end() and m.start() < e for s, e in taken):
                continue
            if text[m.end() : m.end() + 2] in ("版）", "第"):
                continue
            g = [int(x) for x in m.groups()]
            if kind == "ymd":
                day = _dt.date(g[0], g[1], g[2])
            elif kind == "ym":
                day = _month_end(g[0], g[1])
            elif kind == "y-end":
                day = _dt.date(g[0], 12, 31)
            elif kind == "y-before":
                day = _dt.date(g[0] - 1, 12, 31)
            else:
                day = _month_end(year, g[0])
            before = text[max(0, m.start() - 8) : m.start()]
            until = "延长至" in before or "期限" in before
            taken.append((m.start(), m.end()))
            found.append((m.start(), Deadline(m.group(0).rstrip("，"), day, "until" if until else "by", _clause_at(clauses, m.start()))))
    return tuple(d for _, d in sorted(found, key=lambda x: x[0]))


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


# --- document structure ---------------------------------------------------------


def _cover(paras: list[_Para], source: str) -> dict[str, object]:
    """Facts from the cover page: number, issuer, date, notice, plan title."""
    texts = [p.text for p in paras]
    number = next((m.group(0) for t in texts if (m := _DOC_NUMBER.search(t))), None)
    if not number:
        raise CorpusError(
            "document number (e.g. 万政〔2022〕15号) not found on the cover page", source=source, line=paras[0].line if paras else 1
        )
    date_idx = next((i for i, t in enumerate(texts) if _DATE.fullmatch(t)), None)
    if date_idx is None or date_idx == 0:
        raise CorpusError("issue date line (e.g. 2022年6月23日) not found on the cover page", source=source, line=paras[0].line)
    y, mo, d = (int(x) for x in _DATE.fullmatch(texts[date_idx]).groups())  # type: ignore[union-attr]
    issuer = texts[date_idx - 1]
    salutation = next((i for i, t in enumerate(texts) if t.endswith("：")), None)
    notice = "".join(texts[salutation : date_idx - 1]) if salutation is not None else ""
    quoted = re.search(r"《(.+?)》", notice)
    title = quoted.group(1) if quoted else texts[-2] if len(texts) >= 2 else ""
    preface = texts[-1] if texts and texts[-1] != title else ""
    return {
        "number": number,
        "issued": _dt.date(y, mo, d),
        "issuer": issuer,
        "notice": notice,
        "title": title,
        "preface": preface,
    }


def parse_document(text: str, doc_id: str, *, source: str = "", corrections: Sequence[Correction] = ()) -> Document:
    """Parse one document's text into a :class:`Document`.

    Raises :class:`CorpusError` naming the line and what was expected when the
    text is malformed or truncated; it never returns a partial document.
    """
    source = source or doc_id
    frags = _fragments(text)
    first_top = next((i for i, (_, f) in enumerate(frags) if _TOP.match(normalise(f))), None)
    if first_top is None:
        raise CorpusError("no section heading like '一、指导思想' found; is this a policy document?", source=source, line=1)
    cover = _cover([_Para(normalise(f), ln) for ln, f in frags[:first_top]], source)
    paras = _paragraphs(frags[first_top:])
    _apply_corrections(paras, [c for c in corrections if c.doc == doc_id], source)

    issued: _dt.date = cover["issued"]  # type: ignore[assignment]
    categories: list[str] = []
    sections: list[Section] = []
    measures: list[Measure] = []
    validity: re.Match[str] | None = None
    top_no, top_name = 0, ""
    top_texts: dict[tuple[int, str], list[str]] = {}

    def close_measure(m: _Para, number: int) -> None:
        body = _MEASURE.match(m.text).group(2)  # type: ignore[union-attr]
        dm = _DEPTS.search(body)
        if not dm:
            raise CorpusError(
                f"measure {number}: departments (责任单位：…) missing at the end of the measure",
                source=source,
                line=m.parts[-1],
            )
        core = body[: dm.start()].strip()
        title, _, _ = core.partition("。")
        measures.append(
            Measure(
                doc_id=doc_id,
                number=number,
                category=categories[-1] if categories else "",
                category_no=len(categories),
                title=title,
                text=core,
                departments=split_departments(dm.group(1)),
                amounts=extract_amounts(core),
                percents=extract_percents(core),
                deadlines=extract_deadlines(core, issued.year),
                line=m.line,
            )
        )

    open_measure: tuple[_Para, int] | None = None
    for p in paras:
        if (v := _VALIDITY.search(p.text)) and not _MEASURE.match(p.text):
            validity = v
            sections.append(Section(doc_id, "validity", "施行日期与有效期", p.text))
            continue
        if open_measure and not _is_heading(p.text) and not _DEPTS.search(open_measure[0].text):
            # A page break right after a full stop: the measure goes on until its 责任单位 block.
            open_measure[0].text += p.text
            open_measure[0].parts.extend(p.parts)
            continue
        if top := _TOP.match(p.text):
            top_no, top_name = _cn_number(top.group(1)), top.group(2)
            top_texts[(top_no, top_name)] = []
            continue
        sub = _SUB.match(p.text)
        mm = _MEASURE.match(p.text)
        if mm:
            number = int(mm.group(1))
            expected = (open_measure[1] + 1) if open_measure else (measures[-1].number + 1 if measures else 1)
            if open_measure:
                close_measure(*open_measure)
            if number != expected:
                raise CorpusError(f"measure {expected} missing: expected '{expected}.' but found '{number}.'", source=source, line=p.line)
            if not categories:
                raise CorpusError(f"measure {number} comes before any category heading like '（一）…'", source=source, line=p.line)
            open_measure = (p, number)
            continue
        if open_measure:
            close_measure(*open_measure)
            open_measure = None
        if sub and "。" not in p.text:
            # A bare "（一）持续放宽市场准入" heading groups the numbered measures after it.
            categories.append(sub.group(2))
            if _cn_number(sub.group(1)) != len(categories):
                raise CorpusError(
                    f"category （{sub.group(1)}） out of order: expected number {len(categories)}", source=source, line=p.line
                )
            continue
        if sub:
            n = _cn_number(sub.group(1))
            heading, _, rest = sub.group(2).partition("。")
            dm = _DEPTS.search(rest)
            body = rest[: dm.start()] if dm else rest
            sections.append(
                Section(
                    doc_id,
                    f"req-{n}" if "工作要求" in top_name else f"s{top_no}-{n}",
                    f"{top_name}（{sub.group(1)}）{heading}",
                    f"{heading}。{body}".strip(),
                    split_departments(dm.group(1)) if dm else (),
                )
            )
            continue
        if not top_name:
            raise CorpusError("text before the first section heading", source=source, line=p.line)
        top_texts[(top_no, top_name)].append(p.text)
    if open_measure:
        close_measure(*open_measure)

    if not measures:
        raise CorpusError("no measures ('1. …') found under 主要任务", source=source, line=frags[-1][0])
    empty = [c for i, c in enumerate(categories, start=1) if not any(m.category_no == i for m in measures)]
    if empty:
        raise CorpusError(f"category {empty[0]!r} has no measures; the text may be truncated", source=source)
    if validity is None:
        raise CorpusError(
            "closing sentence with the effective date and validity (e.g. '本办法自2022年6月23日起实施，有效期为五年') "
            "not found; the file may be truncated",
            source=source,
            line=frags[-1][0],
        )

    ey, em, ed = (int(x) for x in _DATE.match(validity.group(1)).groups())  # type: ignore[union-attr]
    effective = _dt.date(ey, em, ed)
    years = _cn_number(validity.group(2))
    expires = effective.replace(year=effective.year + years) - _dt.timedelta(days=1)
    numerals = {v: k for k, v in _CN_DIGITS.items()}
    tops = [
        Section(doc_id, {"指导思想": "guiding", "总体目标": "goals"}.get(name, f"s{no}"), f"{numerals[no]}、{name}", "".join(texts))
        for (no, name), texts in top_texts.items()
        if texts
    ]
    title = str(cover["title"])
    facts = (
        f"文件名称：《{title}》。发文字号：{cover['number']}。发文机关：{cover['issuer']}。"
        f"印发日期：{_fmt(issued)}。施行日期：{_fmt(effective)}起实施。"
        f"有效期：{validity.group(2)}年，至{_fmt(expires)}。"
        f"印发通知：{cover['notice']}"
    )
    head = [Section(doc_id, "facts", "文件信息", facts)]
    if cover["preface"]:
        head.append(Section(doc_id, "preface", "前言", str(cover["preface"])))
    return Document(
        id=doc_id,
        title=title,
        short_title=str(cover["number"]),
        issuer=str(cover["issuer"]),
        number=str(cover["number"]),
        issued=issued,
        effective=effective,
        validity_years=years,
        expires=expires,
        notice=str(cover["notice"]),
        categories=tuple(categories),
        sections=tuple(head + tops + sections),
        measures=tuple(measures),
        source=source,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
    )


def _fmt(d: _dt.date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def parse_file(path: Path, *, corrections: Sequence[Correction] = ()) -> Document:
    """Parse one ``.txt`` file; its stem is the document id."""
    try:
        data = path.read_bytes()
    except OSError as ex:
        raise CorpusError(f"cannot read the file: {ex.strerror}", source=str(path)) from None
    return parse_document(_decode(data, str(path)), path.stem, source=str(path), corrections=corrections)


def load_corpus(directory: Path) -> Corpus:
    """Parse every ``*.txt`` in ``directory`` with its ``corrections.toml``."""
    files = sorted(Path(directory).glob("*.txt"))
    if not files:
        raise CorpusError("no policy documents (*.txt) found; put the raw text in corpus/", source=str(directory))
    fixes = load_corrections(Path(directory) / "corrections.toml")
    docs = tuple(parse_file(f, corrections=fixes) for f in files)
    ids = [d.id for d in docs]
    unknown = {c.doc for c in fixes} - set(ids)
    if unknown:
        raise CorpusError(f"corrections name unknown documents {sorted(unknown)}", source=str(directory / "corrections.toml"))
    digest = hashlib.sha256()
    for f in files:
        digest.update(f.name.encode() + b"\0" + f.read_bytes())
    if (Path(directory) / "corrections.toml").exists():
        digest.update((Path(directory) / "corrections.toml").read_bytes())
    return Corpus(documents=docs, sha256=digest.hexdigest())
