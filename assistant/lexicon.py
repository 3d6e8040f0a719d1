"""Chinese tokenisation for search: jieba with a corpus dictionary and synonyms.

jieba alone splits official terms badly (高新技术企业 -> 高新技术/企业 is fine, but
区审批服务管理局 or 一业一证 are not in its dictionary), and it knows nothing of
how people ask (个体户 for 个体工商户). So the tokenizer is built from the
corpus itself: department names, measure titles and quoted terms become
dictionary words, and a reviewed synonym table maps colloquial words to
official ones before search.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import jieba

from .errors import CorpusError
from .types import Corpus

jieba.setLogLevel(logging.WARNING)

# Function words and question words that carry no topic.
STOPWORDS = frozenset(
    """的 了 吗 呢 吧 啊 呀 么 嘛 哦 和 与 及 或 是 在 有 没有 我 我们 你 你们 他 她 它 这 那 这个 那个 哪 哪个 哪些
    什么 怎么 怎么样 怎样 如何 多少 几 多 能 能不能 可以 可不可以 会 要 想 请问 请 一下 一个 就 都 也 还 又 对 给 让 把
    被 从 到 为 为了 以 按 按照 等 各 该 其 之 上 下 中 里 後 后 前 时 时候 现在 问 问题 知道 告诉 说 讲 条 第 政策
    规定 有没有 有啥 啥 咋 咋办 呗 么样 不 没 人 东西 方面 情况 相关 这种 那种 具体 一些 哪里 哪儿 找 谁 去 办 领 拿""".split()
)
# Colloquial fillers: words people wrap questions in that name no topic ("区里有啥说法", "行不行").
FILLERS = frozenset(
    """区里 区上 这块 那块 这边 那边 行不行 能不能 可不可以 是不是 有没有 会不会 要不要 给不给 让不让 还得 还要 还能 得 先
    咋 咋样 咋弄 咋办 怎么办 怎么弄 怎么样 啥样 干嘛 为啥 多久 多长时间 多长 几天 几个 好几个 好几年 好几 一下子 一直 总是
    已经 刚 刚刚 刚好 现在 目前 今天 明天 今年 去年 明年 平时 到底 究竟 大概 大约 差不多 一般 比较 特别 非常 挺 很 太 更
    最 最多 最少 最长 最高 最低 多少钱 多少 能领 能拿 能给 给啥 有啥 没啥 说法 办法 好处 照顾 帮忙 帮着 管管 帮帮 方便
    简单 麻烦 省事 听说 据说 打算 准备 想要 需要 希望 可能 应该 必须 自己 我们 咱们 他们 你们 人家 大家 别人 本人 我家 家里
    手上 手里 身边 附近 店里 村里 厂里 公司里 这里 那里 哪里 哪儿 哪 哪家 哪个 哪些 那个 这个 这些 那些
    一个 一家 一些 有人 谁 啥 么 吗 呢 吧
    白天 晚上 上班 下班后 走不开 没空 不懂 不会 不知道 懂 搞 弄 整 干 做 办个 办下来 办完 能办 好办 跑 来回 一趟 几趟
    么样 时候 啥时候 什么时候 下来 起来 出来 上来 过来 一来 以前 以后 之后 后面 前面 前期 后期 的话 要是 如果 假如 万一""".split()
)
# A word made only of these characters is grammar, not topic: 能先, 我能, 不好, 下去, 没办, 还得.
FUNCTION_CHARS = frozenset(
    "我你他她它们的了吗呢吧啊呀么嘛着过得地能先不没好想去下来点个就都还再也又很太可会要该让给被把从到对在是有这那哪啥怎咋么些几多少每各另别其且而并与和或及办弄搞整做干"
)
_PUNCT = re.compile(r"^[\W_]+$", re.UNICODE)
_QUOTED = re.compile(r"“([^”]{2,12})”")


def load_synonyms(path: Path) -> dict[str, tuple[str, ...]]:
    """Read the reviewed colloquial → official table (``corpus/synonyms.toml``)."""
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as ex:
        raise CorpusError(f"cannot read synonyms: {ex}", source=str(path)) from None
    table = data.get("synonyms", {})
    bad = [k for k, v in table.items() if not isinstance(v, list) or not all(isinstance(x, str) for x in v)]
    if bad:
        raise CorpusError(f"synonyms for {bad[:3]} must be lists of strings", source=str(path))
    return {k: tuple(v) for k, v in table.items()}


def corpus_terms(corpus: Corpus) -> list[str]:
    """Dictionary words drawn from the corpus: departments, titles' quoted terms, categories."""
    terms: set[str] = set()
    for m in corpus.measures:
        terms.update(d for d in m.departments if 2 <= len(d) <= 16)
        terms.update(_QUOTED.findall(m.text))
        terms.add(m.category)
    for s in corpus.sections:
        terms.update(s.departments)
    return sorted(t for t in terms if t and not re.search(r"[\s，。、]", t))


@dataclass
class Lexicon:
    """A jieba tokenizer with corpus words and a synonym table.

    Each ``Lexicon`` owns its own ``jieba.Tokenizer``, so two corpora never
    share (or race on) jieba's global dictionary.
    """

    synonyms: dict[str, tuple[str, ...]] = field(default_factory=dict)
    words: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._tok = jieba.Tokenizer()
        self._lock = threading.Lock()
        self._parts: dict[str, tuple[str, ...]] = {}
        extra = set(self.words) | set(self.synonyms) | {w for v in self.synonyms.values() for w in v}
        with self._lock:
            self._tok.initialize()
            for w in sorted(extra):
                if len(w) >= 2 and not re.search(r"\s", w):
                    self._tok.add_word(w, freq=max(self._tok.suggest_freq(w, tune=False), 2000))
        # Longest keys first, so 开个店 wins over 开店 and 小微企业 over 小微.
        self._keys = sorted(self.synonyms, key=len, reverse=True)

    @classmethod
    def for_corpus(cls, corpus: Corpus, synonyms_path: Path) -> Lexicon:
        return cls(synonyms=load_synonyms(synonyms_path), words=corpus_terms(corpus))

    @property
    def fingerprint(self) -> str:
        """Changes whenever tokenisation could change (part of the index's staleness check)."""
        h = hashlib.sha256()
        for k in sorted(self.synonyms):
            h.update(f"{k}={'|'.join(self.synonyms[k])};".encode())
        h.update("|".join(sorted(self.words)).encode())
        return h.hexdigest()[:16]

    def tokens(self, text: str) -> list[str]:
        """Search tokens: jieba search-mode words minus stopwords and punctuation.

        >>> Lexicon().tokens("首次创业补贴多少钱？")  # doctest: +SKIP
        ['首次', '创业', '补贴', '钱']
        """
        with self._lock:  # jieba's Tokenizer is not documented as thread-safe
            raw = list(self._tok.cut_for_search(text.lower()))
        return [t for t in (w.strip() for w in raw) if t and t not in STOPWORDS and not _PUNCT.match(t)]

    def expansions(self, text: str) -> list[str]:
        """Official terms for the colloquial words in ``text`` (in order, no repeats)."""
        out: list[str] = []
        rest = text
        for key in self._keys:
            if key in rest:
                rest = rest.replace(key, " ")
                out.extend(t for t in self.synonyms[key] if t not in out and t not in text)
        return out

    def query_tokens(self, text: str) -> list[str]:
        """Tokens of the question plus those of its official-term expansions."""
        toks = self.tokens(text)
        for term in self.expansions(text):
            toks.extend(t for t in self.tokens(term) if t not in toks)
        return toks

    def expand_text(self, text: str) -> str:
        """The question with official terms appended, for the dense embedder."""
        extra = self.expansions(text)
        return f"{text}（{'、'.join(extra)}）" if extra else text

    def key_terms(self, text: str) -> list[str]:
        """Content words (whole words, not search sub-words) used to check that an item
        really talks about the question: "个体户开业有补贴吗" -> [个体户, 开业, 补贴]."""
        with self._lock:
            words = self._tok.lcut(text.lower())
        out: list[str] = []
        for w in (w.strip() for w in words):
            if not w or w in STOPWORDS or w in FILLERS or _PUNCT.match(w) or all(c in FUNCTION_CHARS for c in w):
                continue
            if len(w) >= 2 or re.match(r"[A-Za-z0-9]", w):
                if w not in out:
                    out.append(w)
        return out

    def parts(self, term: str) -> list[str]:
        """Sub-words of a long term (2+ characters), for partial matches: 保险金 -> [保险]."""
        cached = self._parts.get(term)
        if cached is None:
            with self._lock:
                cached = tuple(w for w in self._tok.cut_for_search(term) if len(w) >= 2 and w != term)
            if len(self._parts) < 50_000:
                self._parts[term] = cached
        return list(cached)
