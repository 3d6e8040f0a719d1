"""Follow-up questions: turn "那国家级的呢？" into a question that stands alone.

Rule-based (no LLM): an elliptical question is merged with the previous user
question, swapping a sibling term (省级 -> 国家级) where the two share a group of
the corpus data (``[siblings] groups`` in ``corpus/knowledge.toml`` and each
document's own file), else appending the new words. When an LLM is configured,
it may condense instead; this is the fallback either way.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_ELLIPTICAL_START = re.compile(r"^(那|那么|那如果|如果是|如果|要是|还有|另外|再问|再请问|那个|那要是|换成|改成|对于|至于|并且|而且|同样)")
_ELLIPTICAL_ANY = re.compile(r"(这个|这条|这项|这些|它|上面|刚才|前面|上一条|同样|也是|也能|也有|也可以|一样吗)")

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


def resolve(question: str, history: Sequence[dict[str, str]], siblings: Sequence[Sequence[str]] = ()) -> str:
    """The question rewritten to stand alone, using the previous user turn."""
    return resolve_with_kind(question, history, siblings)[0]


def resolve_with_kind(
    question: str, history: Sequence[dict[str, str]], siblings: Sequence[Sequence[str]] = (), *, force: bool = False
) -> tuple[str, str]:
    """(rewritten question, how): how is "standalone", "swap" (a sibling term replaced) or
    "append" (the new words added to the previous question, which may be a change of topic).

    Earlier turns are resolved first, so in "技术创新中心有补助吗 / 国家级给多少 / 那省级呢？" the
    last turn is read against "技术创新中心有补助吗 国家级给多少", not against "国家级给多少" alone.
    ``force`` treats the question as a follow-up even when it reads as complete (the caller knows
    it names no topic of its own: "申请要带什么材料？").
    """
    prev = [m["content"] for m in history if m["role"] == "user"]
    if not prev or not (force or is_elliptical(question)):
        return question, "standalone"
    context = prev[0]
    for turn in prev[1:]:
        context = _resolve_once(turn, context, siblings)[0] if is_elliptical(turn) else turn
    return _resolve_once(question, context, siblings)


def _resolve_once(question: str, last: str, siblings: Sequence[Sequence[str]]) -> tuple[str, str]:
    core = _strip_lead(question)
    for group in siblings:
        new = next((t for t in group if t in core), None)
        old = next((t for t in group if t in last and t != new), None)
        if new and old and new not in last:
            return last.replace(old, new) + (f" {core}" if core != new else ""), "swap"
    return f"{last} {core}".strip(), "append"
