"""A saved web page (BeautifulSoup): the document's text without the site around it.

Government pages wrap a document in navigation, breadcrumbs, share buttons, related links, a
footer and scripts. Those elements go first (by tag, and by class or id words such as ``nav``,
``footer``, ``breadcrumb``); then the content is the smallest element that holds most of the
page's paragraph text. The page's ``<h1>`` (or ``<title>``) and its metadata lines (发文字号：…,
成文日期：…) usually sit outside that element and are put in front of it, where ``structure``
looks for the cover facts. ``<br>`` splits a paragraph; a table becomes one block a row.
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import CorpusError
from ._types import Block, Extracted
from .text import decode

_DROP_TAGS = ("script", "style", "noscript", "nav", "header", "footer", "aside", "form", "iframe", "button", "select", "svg")
_CHROME = re.compile(
    r"(^|[-_\s])(nav|navbar|menu|footer|header|breadcrumbs?|crumbs?|share|sidebar|topbar|banner|copyright|"
    r"login|search|related|pager|toolbar|print)([-_\s]|$)",
    re.I,
)
_BLOCK_TAGS = {"p", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "td", "th", "section", "article", "blockquote", "pre", "dd", "dt"}
_META = re.compile(r"^(索引号|发文机关|发布机构|成文日期|发文字号|文号|发布日期|印发日期|标题)\s*[:：]")
_CJK = re.compile(r"[\u4e00-\u9fff]")
CONTENT_SHARE = 0.8  # the content element holds at least this share of the page's paragraph text


def _soup(data: bytes, source: str) -> Any:
    from bs4 import BeautifulSoup

    text = decode(data, source)
    if "<" not in text:
        raise CorpusError("no HTML markup found; save the page as HTML, or name a text file .txt", source=source)
    return BeautifulSoup(text, "html.parser")


def _drop_chrome(soup: Any) -> None:
    for tag in soup.find_all(_DROP_TAGS):
        tag.decompose()
    for tag in soup.find_all(True):
        if tag.decomposed or tag.attrs is None:
            continue
        words = " ".join([*tag.get("class", []), tag.get("id", "")])
        if words and _CHROME.search(words) and tag.name not in ("body", "html"):
            tag.decompose()


def _cjk(tag: Any) -> int:
    return len(_CJK.findall(tag.get_text()))


def _content(soup: Any) -> Any:
    """The smallest element holding ``CONTENT_SHARE`` of the paragraph text."""
    paras = soup.find_all(["p", "li", "td"]) or soup.find_all("div")
    total = sum(_cjk(p) for p in paras) or 1
    best = soup.body or soup
    for tag in soup.find_all(["div", "article", "main", "section", "td", "table"]):
        held = sum(_cjk(p) for p in tag.find_all(["p", "li", "td"]))
        if held >= CONTENT_SHARE * total and len(tag.get_text()) < len(best.get_text()):
            best = tag
    return best


def _data_row(tr: Any) -> bool:
    """A row of a data table; old sites also lay whole pages out in tables, whose cells hold paragraphs."""
    return tr.find(["p", "div", "table", "ul", "ol", "h1", "h2", "h3"]) is None


def _leaf_texts(root: Any) -> list[tuple[str, int, bool]]:
    """(text, heading level, is table row) for each innermost block element under ``root``."""
    out: list[tuple[str, int, bool]] = []
    for tag in root.find_all(True):
        if tag.name == "tr" and _data_row(tag):
            cells = [re.sub(r"\s+", "", c.get_text()) for c in tag.find_all(["td", "th"])]
            cells = [c for k, c in enumerate(cells) if c and c not in cells[:k]]
            if cells:
                out.append(("｜".join(cells), 0, True))
            continue
        row = tag.find_parent("tr")
        if tag.name not in _BLOCK_TAGS or (row is not None and _data_row(row)) or tag.find(_BLOCK_TAGS | {"tr"}):
            continue
        for br in tag.find_all("br"):
            br.replace_with("\n")
        level = int(tag.name[1]) if re.fullmatch(r"h[1-6]", tag.name) else 0
        out += [(ln.strip(), level, False) for ln in tag.get_text().split("\n") if ln.strip()]
    return out


def _outside(soup: Any, content: Any) -> list[tuple[str, int, bool]]:
    """The page title and metadata lines found outside the content element."""
    inside = set(id(t) for t in content.find_all(True)) | {id(content)}
    h1 = next((h for h in soup.find_all("h1") if id(h) not in inside), None)
    out = [(h1.get_text(strip=True), 1, False)] if h1 is not None else []
    if not out and not content.find("h1") and soup.title and soup.title.string:
        out.append((re.split(r"[-_|｜]", soup.title.string)[0].strip(), 1, False))
    for text, _, _ in _leaf_texts(soup):
        if _META.match(text) and text not in {t for t, _, _ in out}:
            out.append((text, 0, False))
    return [o for o in out if o[0]]


def extract(data: bytes, source: str) -> Extracted:
    soup = _soup(data, source)
    _drop_chrome(soup)
    content = _content(soup)
    inside = _leaf_texts(content)
    seen = {t for t, _, _ in inside}
    found = [o for o in _outside(soup, content) if o[0] not in seen] + inside
    blocks = tuple(Block(t, i, heading=h, table=tb) for i, (t, h, tb) in enumerate(found, start=1))
    if not blocks:
        raise CorpusError("the page has no text once its navigation and scripts are removed", source=source)
    return Extracted(blocks, "html", "\n".join(b.text for b in blocks))
