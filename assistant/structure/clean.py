"""Clean-up of extracted text: full-width punctuation, stray spaces, page-break joins.

The raw text carries the scars of PDF extraction, whatever format it arrived in (text copied
from a PDF into Word or a web page keeps them). They are repaired by general rules:

1. page breaks inside a sentence are joined: a paragraph that does not end with terminal
   punctuation continues in the next fragment unless that fragment starts a heading
   ("城镇新增\\n\\n就业" -> "城镇新增就业");
2. a character doubled across such a break is kept once
   ("节能环保\\n\\n保、" -> "节能环保、", "（责\\n\\n责任单位" -> "（责任单位");
3. half-width ( ) : , ; next to Chinese text become full-width, and spaces next to Chinese text
   go ("400 万" -> "400万", "20% 以上" -> "20%以上").
"""

from __future__ import annotations

import re

TERMINAL = "。；！？!?"
_CJK = r"\u3000-\u303f\u4e00-\u9fff\uff00-\uffef“”‘’《》〔〕—…、"
_CJK_CHAR = re.compile(f"[{_CJK}]")


def is_cjk(ch: str) -> bool:
    return bool(_CJK_CHAR.match(ch))


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


def join(prev: str, nxt: str) -> str:
    """Join two fragments of one sentence split by a page break."""
    if prev and nxt and prev[-1] == nxt[0] and is_cjk(prev[-1]) and prev[-1] not in "“”、，（）":
        # The extractor repeats the character at a page edge: 节能环保 | 保、生物医药.
        nxt = nxt[1:]
    return prev + nxt
