"""Mask personal data in what citizens type before it is stored.

Citizens calling a hotline often add their phone or ID-card number to a question. Those are
replaced by a placeholder; amounts, years and the 12345 hotline are left alone because they
are not long enough to be either.

>>> mask("我是13812345678，身份证110101199003071234，能领5000元吗")
'我是[手机号]，身份证[身份证号]，能领5000元吗'
>>> mask("座机0351-1234567，热线12345")
'座机[电话]，热线12345'

Not handled: bank-card numbers, names and street addresses (free text that no pattern finds
reliably); staff see questions only behind a login.
"""

from __future__ import annotations

import re

# Digits not glued to other digits, so "2022年" or "14400元" are never touched.
_ID_CARD = re.compile(r"(?<![0-9])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[0-9Xx](?![0-9])")
_ID_CARD_OLD = re.compile(r"(?<![0-9])[1-9]\d{7}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}(?![0-9])")  # 15-digit, before 1999
_MOBILE = re.compile(r"(?<![0-9])(?:\+?86[- ]?)?1[3-9]\d[- ]?\d{4}[- ]?\d{4}(?![0-9])")
_LANDLINE = re.compile(r"(?<![0-9])0\d{2,3}[- ]?\d{7,8}(?![0-9])")

_RULES = ((_ID_CARD, "[身份证号]"), (_ID_CARD_OLD, "[身份证号]"), (_MOBILE, "[手机号]"), (_LANDLINE, "[电话]"))


def mask(text: str) -> str:
    """``text`` with ID-card, mobile and landline numbers replaced by placeholders."""
    for pattern, placeholder in _RULES:
        text = pattern.sub(placeholder, text)
    return text
