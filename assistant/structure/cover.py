"""Document facts: 文号, issuer, issue date, title, notice, preface, effective date and validity.

Every fact is optional. It is read, in this order, from the cover page (the lines before the first
numbered heading, as in a district action plan: number, notice, issuer, date), from a web page's
metadata lines (发文字号：…, 成文日期：…), and from the sign-off at the end (issuer, date). The
effective date and validity come from a sentence like "本办法自2022年6月23日起实施，有效期为五年".
What is missing is ``None`` and named in the document's warnings.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from .numbering import cn_number

DOC_NUMBER = re.compile(r"[\u4e00-\u9fff]{1,6}[〔\[［]\d{4}[〕\]］]\d+号")
DATE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_ISO_DATE = re.compile(r"(\d{4})[-./](\d{1,2})[-./](\d{1,2})")
_META = re.compile(r"^(索引号|发文机关|发布机构|成文日期|发文字号|文号|发布日期|印发日期|标题|名称)\s*[:：]\s*(.*)$")
_TITLE_WORDS = re.compile(r"方案|办法|措施|意见|规定|细则|计划|要点|决定|规划|条例|公告|指引|通知|分工")
_ISSUER = re.compile(r"(人民政府|办公室|办公厅|委员会|管理局|局|委|厅|中心|领导小组|管委会|政府)$")
_EFFECTIVE = re.compile(r"自\s*(\d{4}年\d{1,2}月\d{1,2}日|印发之日|发布之日|公布之日|印发之日)\s*起\s*(?:施行|实施|执行|生效)")
_YEARS = re.compile(r"有效期(?:为|暂定为?)?\s*([一二三四五六七八九十两\d]+)\s*年")
_UNTIL = re.compile(r"有效期(?:至|到|截至)\s*(\d{4}年\d{1,2}月\d{1,2}日)")
VALIDITY_SENTENCE = re.compile(rf"{_EFFECTIVE.pattern}|{_YEARS.pattern}|{_UNTIL.pattern}")
_SIGN_OFF = re.compile(r"^[（(]此件.{0,8}[）)]$|^抄送[:：]|^[\u4e00-\u9fff]{2,30}\d{4}年\d{1,2}月\d{1,2}日印发$")


def parse_date(text: str) -> _dt.date | None:
    """2022年6月23日 or 2022-06-23 anywhere in ``text``; None when absent or impossible."""
    m = DATE.search(text) or _ISO_DATE.search(text)
    if not m:
        return None
    try:
        return _dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def is_date_line(text: str) -> bool:
    return bool(DATE.fullmatch(text.strip()) or _ISO_DATE.fullmatch(text.strip()))


def fmt(d: _dt.date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


@dataclass
class Cover:
    """What the cover, metadata lines and sign-off say; every field may be missing."""

    number: str | None = None
    issuer: str | None = None
    issued: _dt.date | None = None
    title: str = ""
    notice: str = ""
    preface: str = ""
    meta: dict[str, str] = field(default_factory=dict)


def _meta(lines: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for ln in lines:
        m = _META.match(ln)
        if m and m.group(2):
            out.setdefault(m.group(1), m.group(2).strip())
    return out


def _title(texts: Sequence[str], headings: Sequence[str], notice: str) -> str:
    """The 《quoted》 title of the notice, else a marked-up heading, else the last line that reads like a title."""
    for source in (notice, *headings):
        quoted = re.search(r"《(.+?)》", source)
        if quoted and _TITLE_WORDS.search(quoted.group(1)):
            return quoted.group(1)
    if headings:
        return re.sub(r"^.{0,30}关于印发(.+?)的通知$", r"\1", headings[0])
    candidates = [t for t in texts if _TITLE_WORDS.search(t) and len(t) <= 80 and t[-1:] not in "。；：" and not _META.match(t)]
    return candidates[-1] if candidates else ""


def read_cover(texts: Sequence[str], headings: Sequence[str]) -> Cover:
    """Facts from the cover lines (``headings`` are those the source marked as headings)."""
    meta = _meta(texts)
    cover = Cover(meta=meta)
    number = next((m.group(0) for t in [meta.get("发文字号", ""), meta.get("文号", ""), *texts] if (m := DOC_NUMBER.search(t))), None)
    cover.number = number
    date_idx = next((i for i, t in enumerate(texts) if is_date_line(t)), None)
    if date_idx is not None:
        cover.issued = parse_date(texts[date_idx])
        before = texts[date_idx - 1] if date_idx > 0 else ""
        if before and len(before) <= 40 and not re.search(r"[。：:，]", before):
            cover.issuer = before
    for key in ("成文日期", "印发日期", "发布日期"):
        if cover.issued is None and key in meta:
            cover.issued = parse_date(meta[key])
    cover.issuer = cover.issuer or meta.get("发文机关") or meta.get("发布机构")
    salutation = next((i for i, t in enumerate(texts) if t.endswith("：") and not _META.match(t) and len(t) >= 4), None)
    if salutation is not None and date_idx is not None and salutation < date_idx:
        cover.notice = "".join(texts[salutation : date_idx - 1])
    cover.title = _title(texts, headings, cover.notice)
    if texts and texts[-1] != cover.title and texts[-1][-1:] in "。；" and len(texts[-1]) >= 15 and texts[-1] not in cover.notice:
        cover.preface = texts[-1]
    return cover


def sign_off(texts: list[str]) -> tuple[int, str | None, _dt.date | None]:
    """How many trailing paragraphs are a sign-off (issuer, date, 此件公开发布, 抄送), and the issuer and date in them."""
    k = len(texts)
    issuer, issued = None, None
    while k > 0 and (_SIGN_OFF.search(texts[k - 1]) or is_date_line(texts[k - 1])):
        issued = parse_date(texts[k - 1]) if is_date_line(texts[k - 1]) else issued
        k -= 1
    if issued is not None and k > 0 and len(texts[k - 1]) <= 30 and _ISSUER.search(texts[k - 1]):
        issuer = texts[k - 1]
        k -= 1
    return len(texts) - k, issuer, issued


@dataclass(frozen=True)
class Validity:
    """When a document applies, from its closing sentence."""

    effective: _dt.date | None
    years: int | None
    years_text: str  # as written: "五" in "有效期为五年"
    expires: _dt.date | None


def read_validity(texts: Sequence[str], issued: _dt.date | None) -> Validity | None:
    """The effective date and validity from the last sentence about the document itself ("本办法自…起施行…").

    Only sentences starting with 本 or 自 count: "营业执照有效期为5年" in an item is not the document's.
    """
    sentences = [s for t in texts for s in re.split(r"(?<=[。；])", t) if s.startswith(("本", "自"))]
    for text in reversed(sentences):
        eff, yrs, until = _EFFECTIVE.search(text), _YEARS.search(text), _UNTIL.search(text)
        if not (eff or yrs or until):
            continue
        effective = parse_date(eff.group(1)) if eff and eff.group(1)[0].isdigit() else (issued if eff else None)
        years = cn_number(yrs.group(1)) if yrs else None
        expires = parse_date(until.group(1)) if until else None
        if expires is None and effective is not None and years:
            try:
                expires = effective.replace(year=effective.year + years) - _dt.timedelta(days=1)
            except ValueError:  # 29 February
                expires = effective.replace(year=effective.year + years, day=28)
        return Validity(effective, years, yrs.group(1) if yrs else "", expires)
    return None
