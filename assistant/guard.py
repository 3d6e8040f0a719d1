"""Input checks: clean or reject questions and histories before anything else runs.

Rejections of malformed input raise :class:`InvalidQuestionError` (the caller
shows its message). Prompt injection is not an error: the service replies
"未找到…" with no citations. Whether a well-formed question is covered at all
(other regions, other topics) is for the fitted answer decision, not for lists here.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Any

from .errors import InvalidQuestionError

MAX_HISTORY_MESSAGE_CHARS = 4000

_CONTROL = re.compile(r"[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\ufeff]")
_SCRIPT = re.compile(r"<\s*(script|style)\b[^>]*>.*?<\s*/\s*\1\s*>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<\s*/?\s*[a-zA-Z][^>]{0,200}>")

# Requests to change the assistant's role or reveal its instructions.
_INJECTION = re.compile(
    r"忽略(之前|以上|上面|前面|先前|所有|你的)|无视(之前|以上|所有)|(系统|system)\s*(提示|prompt)|提示词|"
    r"你现在是|你是一个|扮演|假装|角色扮演|越狱|开发者模式|jailbreak|ignore (all |the )?(previous|prior|above)|"
    r"disregard (all |the )?(previous|prior)|you are now|act as|pretend|写(一)?首诗|写诗|讲个?笑话|写(一)?篇|编(一)?个|编造|"
    r"翻译成|用英文回答|用英语回答|编(一)?份|假材料|假的材料|造假|伪造|做假账|逃税|偷税|骗补|骗取|"
    # a new standing rule (从现在起…只回答), a named jailbreak persona, a writing or forging errand
    r"从现在(起|开始)|(?<![a-z])DAN(?![a-z])|翻成|只(回答|回复|能说|许说)|(帮|给|替)我[^，。？?怎]{0,10}(写(封|个|份|一|首|篇|段)|P一?[个张]|PS)|"
    r"(文件|文档|方案)里没有的",
    re.IGNORECASE,
)


@functools.cache
def _t2s() -> Any:
    from opencc import OpenCC  # opencc-python-reimplemented: pure Python, dictionaries in the wheel

    return OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional -> simplified characters, so 首次創業補貼 finds 首次创业补贴."""
    return str(_t2s().convert(text))


def clean_question(text: Any, *, max_chars: int) -> str:
    """Normalise a question; raise :class:`InvalidQuestionError` for unusable input.

    Control characters and zero-width characters are dropped; HTML tags are kept
    as text (they are escaped at display time) but never interpreted.
    """
    if not isinstance(text, str):
        raise InvalidQuestionError(f"the question must be text, got {type(text).__name__}")
    text = unicodedata.normalize("NFKC", text)
    text = _CONTROL.sub("", text).replace("\r", "\n").strip()
    if not text:
        raise InvalidQuestionError("the question is empty; type a question about the policy, e.g. 首次创业有什么补贴？")
    if len(text) > max_chars:
        raise InvalidQuestionError(f"the question has {len(text)} characters; the limit is {max_chars}. Please shorten it.")
    if not re.search(r"[\w\u4e00-\u9fff]", text):
        raise InvalidQuestionError("the question has no words (only punctuation or symbols); please ask in words")
    return to_simplified(text)


def clean_history(history: Any, *, max_turns: int) -> list[dict[str, str]]:
    """Validate ``[{"role": "user"|"assistant", "content": str}, ...]`` and keep the last turns."""
    if history is None:
        return []
    if not isinstance(history, (list, tuple)):
        raise InvalidQuestionError("history must be a list of {'role', 'content'} messages")
    out: list[dict[str, str]] = []
    for i, msg in enumerate(history):
        if not isinstance(msg, dict) or msg.get("role") not in ("user", "assistant") or not isinstance(msg.get("content"), str):
            raise InvalidQuestionError(f"history[{i}] must be {{'role': 'user'|'assistant', 'content': str}}")
        content = _CONTROL.sub("", unicodedata.normalize("NFKC", msg["content"]))[:MAX_HISTORY_MESSAGE_CHARS]
        out.append({"role": msg["role"], "content": content})
    return out[-max_turns * 2 :] if max_turns else []


def is_injection(text: str) -> bool:
    """True for attempts to change the assistant's role or extract its instructions."""
    return bool(_INJECTION.search(text))


def strip_tags(text: str) -> str:
    """The question without HTML tags; script and style elements go with their content."""
    text = _SCRIPT.sub(" ", text)
    return _TAG.sub(" ", text)
