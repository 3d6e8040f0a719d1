"""Follow-up questions: turn "那国家级的呢？" into a question that stands alone.

Rule-based (no LLM): an elliptical question is merged with the previous user
question, swapping a sibling term (省级 -> 国家级, 新三板 -> 晋兴板) where the
two share a class, else appending the new words. When an LLM is configured,
``answer_llm`` may condense instead; this is the fallback either way.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_ELLIPTICAL_START = re.compile(r"^(那|那么|那如果|如果是|如果|要是|还有|另外|再问|再请问|那个|那要是|换成|改成|对于|至于|并且|而且|同样)")
_ELLIPTICAL_ANY = re.compile(r"(这个|这条|这项|这些|它|上面|刚才|前面|上一条|同样|也是|也能|也有|也可以|一样吗)")

# Terms that replace each other in a follow-up ("省级的…" -> "那国家级的呢？").
SIBLINGS: tuple[tuple[str, ...], ...] = (
    ("国家级", "省级", "市级", "区级", "县级"),
    ("主板", "新三板", "晋兴板", "创业板", "科创板", "中小板", "中小企业板", "境外"),
    ("个体工商户", "个体户", "小微企业", "中小企业", "企业", "公司"),
    ("科技企业孵化器", "孵化器", "众创空间"),
    ("增值税专用发票", "增值税普通发票", "专票", "普票"),
    ("纳税信用A级", "A级", "B级"),
    ("家庭唯一住房", "首套房", "首套", "第二套", "二套房", "二套"),
    ("90平方米及以下", "90平方米以上", "90平以下", "90平以上"),
    ("1000平方米", "2000平方米", "3000平方米"),
    ("10亿元", "5亿元", "1亿元"),
    ("示范园区", "示范企业"),
    ("重点实验室", "技术创新中心", "新型研发机构"),
)


# Words that ask about an aspect of whatever was discussed, not about a new topic:
# "这个找哪个部门办？", "那条件呢？", "要什么材料？".
ASPECT_WORDS = frozenset(
    """部门 单位 负责 办理 申请 条件 要求 材料 手续 流程 时间 期限 多久 金额 标准 额度 比例 钱 补贴 奖励 补助 支持 优惠 政策
    规定 条款 内容 地方 地址 电话 窗口 对象 范围 有效 到期 截止 哪些 什么""".split()
)


def content_chars(text: str) -> int:
    return len(re.findall(r"[\w\u4e00-\u9fff]", text))


def is_elliptical(question: str) -> bool:
    """A question that needs the conversation to make sense."""
    q = question.strip()
    return bool(
        _ELLIPTICAL_START.match(q)
        or re.search(r"呢[？?！!。]*$", q)
        and content_chars(q) <= 14
        or _ELLIPTICAL_ANY.search(q)
        and content_chars(q) <= 16
        or content_chars(q) <= 6
    )


def _strip_lead(q: str) -> str:
    q = _ELLIPTICAL_START.sub("", q.strip())
    return re.sub(r"(的)?呢?[？?！!。]*$", "", q).strip("，, ")


def resolve(question: str, history: Sequence[dict[str, str]]) -> str:
    """The question rewritten to stand alone, using the previous user turn."""
    return resolve_with_kind(question, history)[0]


def resolve_with_kind(question: str, history: Sequence[dict[str, str]]) -> tuple[str, str]:
    """(rewritten question, how): how is "standalone", "swap" (a sibling term replaced) or
    "append" (the new words added to the previous question, which may be a change of topic)."""
    prev = [m["content"] for m in history if m["role"] == "user"]
    if not prev or not is_elliptical(question):
        return question, "standalone"
    last = prev[-1]
    core = _strip_lead(question)
    for group in SIBLINGS:
        new = next((t for t in group if t in core), None)
        old = next((t for t in group if t in last and t != new), None)
        if new and old and new not in last:
            return last.replace(old, new) + (f" {core}" if core != new else ""), "swap"
    return f"{last} {core}".strip(), "append"
