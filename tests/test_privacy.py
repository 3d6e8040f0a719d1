"""Personal data is masked before storing; policy numbers are not."""

from __future__ import annotations

import pytest

from assistant.privacy import mask


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("我的手机13812345678", "我的手机[手机号]"),
        ("电话 138-1234-5678 找我", "电话 [手机号] 找我"),
        ("+86 13912345678", "[手机号]"),
        ("身份证110101199003071234能办吗", "身份证[身份证号]能办吗"),
        ("身份证号11010119900307123X", "身份证号[身份证号]"),
        ("老身份证110101900307123", "老身份证[身份证号]"),
        ("座机0351-7654321", "座机[电话]"),
        # not personal data: amounts, dates, the hotline, item numbers, a 12-digit invoice total
        ("最高5000元，14400元，2025年底，拨打12345，第25条", "最高5000元，14400元，2025年底，拨打12345，第25条"),
        ("营业额100000000000元", "营业额100000000000元"),
    ],
)
def test_mask(text: str, masked: str) -> None:
    assert mask(text) == masked
