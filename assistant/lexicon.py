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
from dataclasses import dataclass, field
from pathlib import Path

import jieba
import jieba.posseg

from .knowledge import SYNONYMS_FILE, Knowledge, load_knowledge
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
    不懂 不会 不知道 懂 搞 弄 整 干 做 办个 办下来 办完 能办 好办 跑 来回 一趟 几趟
    么样 时候 啥时候 什么时候 下来 起来 出来 上来 过来 一来 以前 以后 之后 后面 前面 前期 后期 的话 要是 如果 假如 万一""".split()
)
# A word made only of these characters is grammar, not topic: 能先, 我能, 不好, 下去, 没办, 还得.
FUNCTION_CHARS = frozenset(
    "我你他她它们的了吗呢吧啊呀么嘛着过得地能先不没好想去下来点个就都还再也又很太可会要该让给被把从到对在是有这那哪啥怎咋么些几多少每各另别其且而并与和或及办弄搞整做干"
)
# Words by which a question refers to the document itself ("这个方案里…"): not a topic to look for in an item.
SELF_REFERENCE = frozenset("方案 文件 办法 措施 条款 通知 意见 本方案 这个方案 这份 这条 政府 区里 区政府".split())
# Words that ask where to go or who is in charge: every item answers them with its departments,
# so they are not topic words to look for in an item's text.
ROUTING = frozenset("部门 单位 责任单位 牵头单位 配合单位 负责 负责部门 主管 主管部门 管 归口 找谁 对接".split())
_ROUTING_PHRASES = re.compile("责任单位|牵头单位|配合单位|负责部门|主管部门|(?:哪个|哪些|什么)(?:部门|单位)")
# jieba part-of-speech tags of words that carry no topic: pronouns, adverbs, particles, prepositions,
# conjunctions, numerals, classifiers, directions, punctuation, interjections, onomatopoeia.
_NON_CONTENT_TAGS = ("r", "d", "y", "u", "p", "c", "m", "q", "f", "x", "w", "e", "o", "uj", "ul", "uz", "ug", "uv", "ud")
_PUNCT = re.compile(r"^[\W_]+$", re.UNICODE)
_ADMIN = re.compile(r"([\u4e00-\u9fff]{2,6}?)(省|自治区|市|区|县|镇|乡|街道)")
_LEADING_ADMIN = re.compile(r"^(?:[\u4e00-\u9fff]{2,6}?(?:省|自治区|市|区|县))+")
_QUOTED = re.compile(r"“([^”]{2,12})”")


def load_synonyms(path: Path) -> dict[str, tuple[str, ...]]:
    """Read one colloquial → official table (``[synonyms]`` of a TOML file)."""
    return load_knowledge(Path(path).parent, ()).synonyms if Path(path).name == SYNONYMS_FILE else {}


def corpus_terms(corpus: Corpus) -> list[str]:
    """Dictionary words drawn from the corpus: departments, titles' quoted terms, categories."""
    terms: set[str] = set()
    for m in corpus.measures:
        terms.update(d for d in m.departments if 2 <= len(d) <= 16)
        terms.update(_QUOTED.findall(m.text))
        terms.add(m.category)
    for s in corpus.sections:
        terms.update(s.departments)
    terms.update(context_words(corpus))
    return sorted(t for t in terms if t and not re.search(r"[\s，。、]", t))


def context_words(corpus: Corpus) -> set[str]:
    """The documents' own place names, from issuers and titles: 某某市某某区人民政府 -> 某某市, 某某, 某某区, 某某.

    They say where a question is asked, not what about, so they are dictionary words (never split)
    but not key terms.
    """
    out: set[str] = set()
    for d in corpus.documents:
        lead = _LEADING_ADMIN.match(d.title or "")
        for text in (d.issuer or "", lead.group(0) if lead else ""):
            for m in _ADMIN.finditer(text):
                out.update({m.group(0), m.group(1)})
    return out


@dataclass
class Lexicon:
    """A jieba tokenizer with corpus words and a synonym table.

    Each ``Lexicon`` owns its own ``jieba.Tokenizer``, so two corpora never
    share (or race on) jieba's global dictionary.
    """

    synonyms: dict[str, tuple[str, ...]] = field(default_factory=dict)
    words: list[str] = field(default_factory=list)
    knowledge: Knowledge = field(default_factory=Knowledge)
    context_words: list[str] = field(default_factory=list)  # the documents' own place names

    def __post_init__(self) -> None:
        self._tok = jieba.Tokenizer()
        self._lock = threading.Lock()
        self._parts: dict[str, tuple[str, ...]] = {}
        siblings = {t for g in self.knowledge.siblings + self.knowledge.distinct for t in g}
        extra = set(self.words) | set(self.synonyms) | {w for v in self.synonyms.values() for w in v} | siblings
        with self._lock:
            self._tok.initialize()
            self.general_total = int(self._tok.total)
            self._general: dict[str, int] = {}  # jieba's own frequency of the words we add
            for w in sorted(extra):
                if len(w) >= 2 and not re.search(r"\s", w):
                    self._general[w] = int(self._tok.FREQ.get(w, 0) or 0)
                    self._tok.add_word(w, freq=max(self._tok.suggest_freq(w, tune=False), 2000), tag="nz")
        self._pos = jieba.posseg.POSTokenizer(self._tok)
        self.context = frozenset(self.context_words)
        # Longest keys first, so 开个店 wins over 开店 and 小微企业 over 小微.
        self._keys = sorted(self.synonyms, key=len, reverse=True)

    @classmethod
    def for_corpus(cls, corpus: Corpus, data: Path) -> Lexicon:
        """The lexicon for ``corpus`` with the data tables of the folder ``data`` (or of the folder of
        the ``synonyms.toml`` file named): general tables plus each document's own."""
        folder = Path(data).parent if Path(data).suffix == ".toml" else Path(data)
        knowledge = load_knowledge(folder, [d.id for d in corpus.documents])
        return cls(
            synonyms=knowledge.synonyms, words=corpus_terms(corpus), knowledge=knowledge, context_words=sorted(context_words(corpus))
        )

    @property
    def fingerprint(self) -> str:
        """Changes whenever tokenisation could change (part of the index's staleness check)."""
        h = hashlib.sha256()
        for k in sorted(self.synonyms):
            h.update(f"{k}={'|'.join(self.synonyms[k])};".encode())
        h.update("|".join(sorted(self.words)).encode())
        h.update(repr((self.knowledge.siblings, self.knowledge.distinct, sorted(self.knowledge.suffixes.items()))).encode())
        return h.hexdigest()[:16]

    def general_frequency(self, word: str) -> int:
        """How often ``word`` occurs in general Chinese (jieba's dictionary), 0 if it is not a word there.

        The corpus words added to this lexicon's dictionary report their original frequency.
        """
        if word in self._general:
            return self._general[word]
        return int(self._tok.FREQ.get(word, 0) or 0)

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
        for _word, official in self.suffix_matches(rest):
            out.extend(t for t in official if t not in out and t not in text)
        return out

    def suffix_matches(self, text: str) -> list[tuple[str, tuple[str, ...]]]:
        """(word, official terms) for words of ``text`` that end in a ``[suffixes]`` ending: 奶茶店 -> 个体工商户."""
        out = []
        for suffix, official in self.knowledge.suffixes.items():
            for m in re.finditer(rf"[\u4e00-\u9fff]{{1,4}}?{re.escape(suffix)}", text):
                word = m.group(0).lstrip("".join(FUNCTION_CHARS) + "开在")
                if len(word) > len(suffix):
                    out.append((word, official))
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
        return [w for w, _ in self.tagged_terms(text)]

    def tagged_terms(self, text: str) -> list[tuple[str, str]]:
        """Key terms with their jieba part-of-speech tag (n… nouns, v… verbs, nz corpus words).

        A run jieba's HMM guesses into a word is kept (营收) unless it straddles grammar: "采摘节来了"
        gives 采摘 and single characters, not the non-word 节来. Numbers, function words, fillers, routing words
        (部门, 找谁) and the documents' own place names are left out.
        """
        with self._lock:
            pairs = []
            for p in self._pos.lcut(_ROUTING_PHRASES.sub("，", text.lower())):
                if self.general_frequency(p.word) == 0 and p.word not in self._tok.FREQ and any(c in FUNCTION_CHARS for c in p.word):
                    # A run jieba's HMM guessed into a non-word around grammar ("节来", "能补"): keep its known parts.
                    pairs += [(q.word, q.flag) for q in self._pos.lcut(p.word, HMM=False)]
                else:
                    pairs.append((p.word, p.flag))
            pairs = [(w.strip(), flag) for w, flag in pairs]
        out: list[tuple[str, str]] = []
        for w, flag in pairs:
            if not w or w in STOPWORDS or w in FILLERS or w in ROUTING or w in SELF_REFERENCE or w in self.context or _PUNCT.match(w):
                continue
            if flag.startswith(_NON_CONTENT_TAGS) and not flag.startswith(("uj",)) and flag not in ("eng",):
                continue
            if all(c in FUNCTION_CHARS for c in w) or w.isdigit() or (len(w) < 2 and not re.match(r"[a-z]{2,}", w)):
                continue
            if w not in (x for x, _ in out):
                out.append((w, flag))
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
