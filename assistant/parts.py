"""A message that asks several things at once ("开了家餐厅，有奖励吗？贷款能贴息不"): its
questions, each with the situation the message opens with, so that each can be decided on its own.

The whole message is still read and decided as one question; each of its questions only adds the
item that answers it (``Assistant.decide``): one item rarely answers two questions, and the decision,
fitted on whole questions, reads two questions' words as one.
"""

from __future__ import annotations

import re

_END = re.compile(r"[？?！!；;。]+")
_CLAUSE = re.compile(r"[，,、]")
# Words that make a sentence a question (a statement of the situation has none of them).
_ASKS = re.compile(r"[吗么呢嘛]|[不没][？?]?$|啥|什么|多少|怎么|咋|哪|几|能否|是否|能不能|可不可以|有没有|要不要|如何|多久|多长")
MAX_PARTS = 3  # questions of one message decided on their own
MIN_CHARS = 3  # shorter pieces ("好的") are not questions


def questions(message: str) -> list[tuple[str, str]]:
    """The questions of ``message``: each as written, and with the situation the message states
    before its first question ("在公路边开了家餐厅，贷款能贴息不"); [] for a message that asks one thing."""
    pieces = [p.strip(" ，,") for p in _END.split(message)]
    pieces = [p for p in pieces if len(p) >= MIN_CHARS]
    asking = [i for i, p in enumerate(pieces) if _ASKS.search(p)]
    if len(asking) < 2:
        return []
    first = pieces[asking[0]]
    clauses = [c for c in _CLAUSE.split(first) if c]
    situation = pieces[: asking[0]] + clauses[:-1]  # statements, then the first question's lead-in
    context = "，".join(situation)
    whole_first = "，".join([*pieces[: asking[0]], first])
    later = [(pieces[i], f"{context}，{pieces[i]}" if context else pieces[i]) for i in asking[1:MAX_PARTS]]
    return [(first, whole_first), *later]
