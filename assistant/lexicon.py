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
from collections.abc import Iterable
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
        """Content words used to check that an item really talks about the question."""
        return [t for t in self.tokens(text) if len(t) >= 2 or re.match(r"[A-Za-z0-9]", t)]


def overlap(terms: Iterable[str], text: str) -> float:
    """Share of ``terms`` (weighted by length) found verbatim in ``text``."""
    terms = [t for t in terms if t]
    if not terms:
        return 0.0
    total = sum(len(t) for t in terms)
    return sum(len(t) for t in terms if t in text) / total
