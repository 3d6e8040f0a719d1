"""Input checks: clean or reject questions and histories before anything else runs.

Rejections of malformed input raise :class:`InvalidQuestionError` (the caller
shows its message). Questions that are well-formed but out of scope (prompt
injection, other regions) are not errors: ``classify`` names the reason and
the answerer replies "未找到…" with no citations.
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
    r"翻译成|用英文回答|用英语回答|编(一)?份|假材料|假的材料|造假|伪造|做假账|逃税|偷税|骗补|骗取",
    re.IGNORECASE,
)

# Places a question may name that a district policy does not cover. A place that the corpus mentions is
# never treated as foreign (see ``foreign_places``), so 太原/山西/晋中 stay in scope where the text names them.
PLACES = (
    "北京 上海 天津 重庆 河北 山东 河南 湖北 湖南 广东 广西 江苏 浙江 安徽 福建 江西 四川 贵州 云南 陕西 甘肃 青海 宁夏 新疆 西藏 "
    "内蒙古 辽宁 吉林 黑龙江 海南 香港 澳门 台湾 深圳 广州 杭州 南京 苏州 成都 武汉 西安 郑州 济南 青岛 长沙 合肥 厦门 "
    "大连 沈阳 哈尔滨 长春 石家庄 呼和浩特 兰州 银川 西宁 乌鲁木齐 拉萨 昆明 贵阳 南宁 海口 福州 南昌 宁波 无锡 东莞 佛山 "
    "浦东 前海 雄安 大同 阳泉 长治 晋城 朔州 运城 忻州 临汾 吕梁 晋中 榆次 小店区 迎泽区 杏花岭区 尖草坪区 晋源区 清徐 阳曲 娄烦 古交 "
    "小店 迎泽 杏花岭 尖草坪 晋源 美国 日本 韩国 英国 德国 法国"
).split()


# Frequent citizen topics that a business-environment policy does not cover. Like PLACES, a topic
# counts as off-topic only while no document in the corpus mentions it, so adding a document on
# 公积金 brings 公积金 questions back in scope without a code change.
OFF_TOPICS = (
    "垃圾 医保报销 报销比例 住院报销 公积金 养老金 退休 驾照 驾驶证 签证 护照 天气 下雨 彩票 双色球 股票 房价 学区 划片 入学 "
    "最低工资 工资标准 工伤 生育津贴 生育保险 失业保险金 失业金 低保 退役军人 专项附加扣除 个税起征点 充电桩 垃圾分类 "
    "新冠 疫苗 核酸 挂号 高考 中考 户口 落户积分 结婚 离婚 彩礼 违章 罚单 停车费 物业费 暖气费 水费 电费 燃气费"
).split()


def off_topics(text: str, known_text: str) -> list[str]:
    """Off-topic subjects named in ``text`` that the corpus never mentions."""
    return [t for t in OFF_TOPICS if t in text and t not in known_text]


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


def foreign_places(text: str, known_text: str) -> list[str]:
    """Places named in ``text`` that the corpus never mentions (other cities, provinces, districts)."""
    found = [p for p in PLACES if p in text and p not in known_text]
    return [p for p in found if not any(p != q and p in q for q in found)]
